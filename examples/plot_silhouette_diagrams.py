"""
Silhouette diagrams for several numbers of clusters
===================================================

The silhouette coefficient of a sample compares its mean distance to the
other members of its cluster (*a*) with its mean distance to the members of
the nearest other cluster (*b*): ``(b - a) / max(a, b)``, from -1 (closer to
another cluster) to 1 (well inside its own). A silhouette diagram draws the
sorted coefficients of each cluster as a band: a good clustering has bands
of similar thickness, all reaching past the mean.

The data: 1,000 samples from 4 blobs in 2 dimensions, two of them close
together, so that fewer clusters than blobs also score well. The diagrams come from
:meth:`~turbocluster.ClusterCountSelection.plot_silhouette_diagram`; the
coefficients from :func:`~turbocluster.silhouette_samples`, which gives
scikit-learn's values without an n x n distance matrix.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples as sklearn_silhouette_samples

from turbocluster import KMeans, select_n_clusters, silhouette_samples

X, _ = make_blobs(n_samples=1_000, centers=[[-6, 2], [-4.5, 0], [3, 3], [4, -4]],
                  cluster_std=1.0, random_state=1)
candidates = [2, 3, 4, 5, 6]


def median_time(run):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up."""
    run()
    return float(np.median(repeat(run, number=1, repeat=3)))


# %%
# Score every candidate, then draw its diagram beside its clusters
# ----------------------------------------------------------------

selection = select_n_clusters(X, candidates, criteria=("inertia", "silhouette"))
for k, score in zip(selection.n_clusters, selection.silhouette):
    print(f"k = {k}: mean silhouette {score:.3f}")
print("highest mean silhouette:", selection.recommended["silhouette"], "clusters")

fig, axes = plt.subplots(len(candidates), 2, figsize=(8, 3 * len(candidates)),
                         layout="constrained")
for (left, right), k in zip(axes, candidates):
    selection.plot_silhouette_diagram(X, n_clusters=k, ax=left)
    left.set_xlim(-0.2, 1)
    model = selection.estimators_[candidates.index(k)]
    right.scatter(X[:, 0], X[:, 1], c=model.labels_, s=6, cmap="tab10",
                  vmin=0, vmax=9)
    right.scatter(*model.cluster_centers_.T, marker="x", s=80, c="black")
    right.set_title(f"KMeans, {k} clusters")
plt.show()

# %%
# The mean alone favours merging the two close blobs. The diagrams show the
# price of each choice: how thick each band is (the cluster's size), how far
# its coefficients reach, and which clusters hold samples below zero (closer
# to another cluster than to their own). Where bands are thin and fall short
# of the mean, a blob has been split.
#
# Time against scikit-learn
# -------------------------
# The KMeans fit of the 4-cluster candidate and the silhouette coefficients
# of its labels, on the same data with the same parameters (medians of 3 runs
# after a warm-up).

labels = KMeans(4, random_state=0).fit(X).labels_
np.testing.assert_allclose(silhouette_samples(X, labels),
                           sklearn_silhouette_samples(X, labels), rtol=1e-10)

ours = median_time(lambda: KMeans(4, random_state=0).fit(X))
theirs = median_time(lambda: SklearnKMeans(4, random_state=0).fit(X))
print(f"KMeans(4) fit, 1,000 x 2: turbocluster {ours * 1e3:.2f} ms, "
      f"scikit-learn {theirs * 1e3:.2f} ms ({theirs / ours:.1f}x)")
ours = median_time(lambda: silhouette_samples(X, labels))
theirs = median_time(lambda: sklearn_silhouette_samples(X, labels))
print(f"silhouette_samples, 1,000 x 2: turbocluster {ours * 1e3:.2f} ms, "
      f"scikit-learn {theirs * 1e3:.2f} ms ({theirs / ours:.1f}x)")

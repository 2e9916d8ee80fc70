"""
The inertia elbow: choosing k for k-means
=========================================

The inertia of k-means (the sum of squared distances of the samples to their
nearest center) can only fall as clusters are added, so its smallest value
says nothing. What helps is where it stops falling fast: the *elbow* of the
curve. :func:`~turbocluster.select_n_clusters` fits one
:class:`~turbocluster.KMeans` per candidate and finds the elbow with
:func:`~turbocluster.knee_point` (Satopaa et al.'s "Kneedle") on the
logarithm of the inertia.

The data: 3,000 samples from 6 Gaussian blobs in 8 dimensions.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_blobs

from turbocluster import knee_point, select_n_clusters

X, _ = make_blobs(n_samples=3_000, n_features=8, centers=6, cluster_std=1.5,
                  random_state=3)
candidates = range(2, 13)


def median_time(run, warm_up=True):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up
    (``warm_up=False``: the caller has just made it)."""
    if warm_up:
        run()
    return float(np.median(repeat(run, number=1, repeat=3)))


# %%
# One call fits every candidate
# -----------------------------
# ``criteria=("inertia",)`` skips the other scores (silhouette,
# Calinski-Harabasz, Davies-Bouldin), so the call costs the fits alone.

selection = select_n_clusters(X, candidates, criteria=("inertia",))
print("elbow of the log-inertia:", selection.recommended["inertia"], "clusters")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
selection.plot_elbow(ax=ax)
ax.set_yscale("log")
ax.set_title("KMeans inertia against k (log scale)")
plt.show()

# %%
# The knee on a linear and on a logarithmic scale
# -----------------------------------------------
# :func:`~turbocluster.knee_point` scales both axes to [0, 1] and takes the
# point farthest below the chord joining the first and last points. On the
# raw inertia the first drops, much larger than the later ones, set the chord
# alone and the knee moves early; inertia falls by factors, so
# ``select_n_clusters`` looks for the knee of its logarithm.

inertia = selection.inertia
print("knee of the inertia:          ", knee_point(candidates, inertia))
print("knee of the log of the inertia:", knee_point(candidates, np.log(inertia)))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for ax, values, title in [(axes[0], inertia, "inertia"),
                          (axes[1], np.log(inertia), "log(inertia)")]:
    x_n = (np.asarray(candidates) - min(candidates)) / np.ptp(candidates)
    y_n = (values - values.min()) / np.ptp(values)
    ax.plot(x_n, y_n, marker="o", color="0.2", label="normalised curve")
    ax.plot([0, 1], [1, 0], color="0.6", linestyle=":", label="chord")
    knee = int(knee_point(candidates, values))
    at = list(candidates).index(knee)
    ax.plot([x_n[at]], [y_n[at]], marker="o", color="tab:red",
            label=f"knee: k = {knee}")
    ax.set_title(title)
    ax.set_xlabel("k, scaled to [0, 1]")
    ax.legend()
plt.show()

# %%
# Time against scikit-learn
# -------------------------
# The same fits with scikit-learn: one ``KMeans(k, random_state=0)`` per
# candidate, the loop a user writes by hand. Both sides find the same
# inertia; the times are medians of 3 runs after a warm-up.


def sklearn_elbow():
    return [SklearnKMeans(k, random_state=0).fit(X).inertia_ for k in candidates]


np.testing.assert_allclose(sklearn_elbow(), inertia, rtol=1e-6)  # also the warm-up
ours = median_time(lambda: select_n_clusters(X, candidates, criteria=("inertia",)))
theirs = median_time(sklearn_elbow, warm_up=False)
print(f"KMeans for k = 2..12, 3,000 x 8: turbocluster {ours:.3f} s, "
      f"scikit-learn {theirs:.3f} s ({theirs / ours:.1f}x)")

# sphinx_gallery_thumbnail_number = 1

"""
DBSCAN on two moons with noise, and predicting new samples
==========================================================

k-means draws straight boundaries between convex clusters and cannot
separate two interleaved half circles. DBSCAN grows clusters from *core
samples* (those with at least ``min_samples`` neighbours within ``eps``) and
leaves samples far from any core sample as noise (label -1), so it follows
the moons and flags the scattered points.

:class:`turbocluster.DBSCAN` gives scikit-learn's labels, cluster numbers
included, without storing any neighbourhood. It also has ``predict`` (not in
scikit-learn): a new sample joins the cluster of its nearest core sample
within ``eps``, else it is noise.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import DBSCAN as SklearnDBSCAN
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_moons

from turbocluster import DBSCAN

rng = np.random.default_rng(0)
moons, _ = make_moons(n_samples=2_000, noise=0.06, random_state=0)
scatter = rng.uniform(low=[-1.5, -1.0], high=[2.5, 1.5], size=(100, 2))
X = np.vstack([moons, scatter])


def median_time(run):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up."""
    run()
    return float(np.median(repeat(run, number=1, repeat=3)))


# %%
# Fit, and compare with scikit-learn's labels
# -------------------------------------------

db = DBSCAN(eps=0.12, min_samples=8).fit(X)
reference = SklearnDBSCAN(eps=0.12, min_samples=8).fit(X)
assert np.array_equal(db.labels_, reference.labels_)
assert np.array_equal(db.core_sample_indices_, reference.core_sample_indices_)
print("clusters:", db.labels_.max() + 1)
print("noise samples:", np.sum(db.labels_ == -1))
print("core samples:", db.core_sample_indices_.size)

kmeans_labels = SklearnKMeans(2, random_state=0).fit_predict(X)

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
axes[0].scatter(X[:, 0], X[:, 1], c=kmeans_labels, s=5, cmap="coolwarm")
axes[0].set_title("k-means, 2 clusters: straight boundary")
core = np.zeros(len(X), dtype=bool)
core[db.core_sample_indices_] = True
noise = db.labels_ == -1
axes[1].scatter(X[core, 0], X[core, 1], c=db.labels_[core], s=5, cmap="coolwarm")
axes[1].scatter(X[~core & ~noise, 0], X[~core & ~noise, 1],
                c=db.labels_[~core & ~noise], s=14, cmap="coolwarm",
                edgecolors="black", linewidths=0.4)
axes[1].scatter(X[noise, 0], X[noise, 1], s=10, c="0.5", marker="x")
axes[1].set_title("DBSCAN: core (small), border (outlined), noise (x)")
plt.show()

# %%
# Predicting new samples
# ----------------------
# Labels for a grid of new points: each takes the cluster of its nearest core
# sample if one lies within ``eps``; the grey region is what DBSCAN would
# call noise.

xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 300), np.linspace(-1.1, 1.6, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
grid_labels = db.predict(grid).reshape(xx.shape)

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.contourf(xx, yy, grid_labels, levels=[-1.5, -0.5, 0.5, 1.5],
            colors=["0.9", "#b0c4f5", "#f5b5a5"])
cluster_colors = np.array(["#3b4cc0", "#b40426"])
ax.scatter(X[~noise, 0], X[~noise, 1], c=cluster_colors[db.labels_[~noise]], s=4)
ax.scatter(X[noise, 0], X[noise, 1], c="0.3", s=10, marker="x")
ax.set_title("DBSCAN.predict on a grid (grey: noise); training samples on top")
plt.show()

# %%
# Time against scikit-learn
# -------------------------
# The same parameters on the same 2,100 samples (medians of 3 runs after a
# warm-up).

ours = median_time(lambda: DBSCAN(eps=0.12, min_samples=8).fit(X))
theirs = median_time(lambda: SklearnDBSCAN(eps=0.12, min_samples=8).fit(X))
print(f"DBSCAN fit, 2,100 x 2: turbocluster {ours * 1e3:.2f} ms, "
      f"scikit-learn {theirs * 1e3:.2f} ms ({theirs / ours:.1f}x)")

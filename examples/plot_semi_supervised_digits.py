"""
Semi-supervised learning from cluster representatives
=====================================================

Labelling data by hand is expensive. With a budget of 50 labels, which 50
samples should a person label? Drawn at random, some digits get many labels
and others few. Clustering the unlabelled samples first and labelling the
sample nearest to each cluster center gives 50 *representative* samples,
one per region of the data. Their labels can then be *propagated* to the
other members of each cluster, which turns 50 labels into a full (if
imperfect) training set.

The data: scikit-learn's handwritten digits (1,797 images of 8 x 8 pixels),
three quarters for training, one quarter to measure the accuracy of a
logistic regression trained on each set of labels.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from turbocluster import KMeans

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0)
n_labels = 50


def median_time(run):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up."""
    run()
    return float(np.median(repeat(run, number=1, repeat=3)))


def accuracy(X_labelled, y_labelled):
    """Test accuracy of a logistic regression trained on these labels."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000))
    return model.fit(X_labelled, y_labelled).score(X_test, y_test)


# %%
# Cluster, then pick the sample nearest each center
# -------------------------------------------------
# ``transform`` gives the distance of every sample to every center; the
# smallest of each column is that center's representative.

kmeans = KMeans(n_clusters=n_labels, random_state=0).fit(X_train)
distances = kmeans.transform(X_train)
representatives = np.argmin(distances, axis=0)

fig, axes = plt.subplots(5, 10, figsize=(8, 4.4), layout="constrained")
for ax, index in zip(axes.ravel(), representatives):
    ax.imshow(X_train[index].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(y_train[index]), fontsize=9)
    ax.set_axis_off()
fig.suptitle("The 50 representatives, with the labels a person would give")
plt.show()

# %%
# Representatives against random samples
# --------------------------------------
# The person labels the 50 representatives (here: their true labels). For
# comparison, five draws of 50 random samples.

with_representatives = accuracy(X_train[representatives], y_train[representatives])
rng = np.random.default_rng(0)
with_random = [accuracy(X_train[chosen], y_train[chosen])
               for chosen in (rng.choice(len(X_train), n_labels, replace=False)
                              for _ in range(5))]
print(f"50 representatives: test accuracy {with_representatives:.3f}")
print(f"50 random samples:  test accuracy {np.mean(with_random):.3f} "
      f"(5 draws, {min(with_random):.3f} to {max(with_random):.3f})")

# %%
# Propagating the labels to the clusters
# --------------------------------------
# Every training sample takes the label of its cluster's representative. Some
# of these labels are wrong (a cluster can mix two digits), but most are
# right, and the classifier now trains on all samples.

propagated = y_train[representatives][kmeans.labels_]
print(f"propagated labels that are right: {np.mean(propagated == y_train):.3f}")
with_propagation = accuracy(X_train, propagated)
with_all_labels = accuracy(X_train, y_train)
print(f"{len(X_train)} propagated labels: test accuracy {with_propagation:.3f}")
print(f"{len(X_train)} true labels:       test accuracy {with_all_labels:.3f}")

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
names = ["50 random", "50 representatives", "propagated", "all true labels"]
scores = [np.mean(with_random), with_representatives, with_propagation,
          with_all_labels]
ax.barh(names, scores, color=["0.6", "tab:blue", "tab:blue", "0.3"])
for row, score in enumerate(scores):
    ax.text(score - 0.01, row, f"{score:.3f}", va="center", ha="right", color="white")
ax.set_xlim(0.5, 1)
ax.set_xlabel("test accuracy of the logistic regression")
plt.show()

# %%
# Time against scikit-learn
# -------------------------
# The clustering step, ``KMeans(50, random_state=0)`` on the 1,347 training
# images (64 features), same data and parameters (medians of 3 runs after a
# warm-up).

ours = median_time(lambda: KMeans(n_clusters=n_labels, random_state=0).fit(X_train))
theirs = median_time(lambda: SklearnKMeans(n_clusters=n_labels,
                                           random_state=0).fit(X_train))
print(f"KMeans(50) fit, 1,347 x 64: turbocluster {ours * 1e3:.1f} ms, "
      f"scikit-learn {theirs * 1e3:.1f} ms ({theirs / ours:.1f}x)")

# sphinx_gallery_thumbnail_number = 1

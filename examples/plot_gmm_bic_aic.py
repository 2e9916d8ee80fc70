"""
Choosing a Gaussian mixture by BIC and AIC
==========================================

The likelihood of a Gaussian mixture grows with every component and every
free covariance entry, so it cannot choose a model by itself. The Bayesian
information criterion (BIC) and Akaike's (AIC) charge for the parameters:
``BIC = -2 log L + p log n`` and ``AIC = -2 log L + 2 p`` for ``p`` free
parameters and ``n`` samples; the lowest value wins. BIC charges more as
``n`` grows and prefers smaller models.

:func:`~turbocluster.select_n_clusters` with a
:class:`~turbocluster.GaussianMixture` as the estimator fits one mixture per
number of components and returns the BIC and AIC of each. Here it runs once
per covariance type ('spherical', 'diag', 'tied', 'full') on 1,500 samples
from 4 elongated Gaussian clusters.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from turbocluster import GaussianMixture, select_n_clusters

rng = np.random.default_rng(2)
shears = [np.array([[1.5, 0.0], [1.0, 0.4]]), np.array([[0.4, -0.6], [0.3, 0.9]]),
          np.array([[1.0, 0.2], [0.2, 0.3]]), np.array([[0.5, 0.0], [0.0, 0.5]])]
centers = [[0, 0], [5, 3], [-4, 4], [2, -4]]
X = np.vstack([rng.normal(size=(375, 2)) @ shear + center
               for shear, center in zip(shears, centers)])
candidates = range(2, 9)
covariance_types = ["spherical", "diag", "tied", "full"]


def median_time(run, warm_up=True):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up
    (``warm_up=False``: the caller has just made it)."""
    if warm_up:
        run()
    return float(np.median(repeat(run, number=1, repeat=3)))


def select_all():
    return {covariance_type: select_n_clusters(
                X, candidates, criteria=("inertia", "bic", "aic"),
                estimator=GaussianMixture(covariance_type=covariance_type,
                                          random_state=0))
            for covariance_type in covariance_types}


# %%
# BIC and AIC for every covariance type and number of components
# --------------------------------------------------------------

selections = select_all()
for covariance_type, selection in selections.items():
    print(f"{covariance_type:>9}: BIC chooses {selection.recommended['bic']}, "
          f"AIC chooses {selection.recommended['aic']} components "
          f"(lowest BIC {np.min(selection.bic):.1f})")
best_type = min(selections, key=lambda name: np.min(selections[name].bic))
best = selections[best_type]
print(f"lowest BIC overall: {best_type!r} with {best.recommended['bic']} components")

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
width = 0.2
for offset, (covariance_type, selection) in enumerate(selections.items()):
    for ax, criterion in zip(axes, ("bic", "aic")):
        ax.bar(np.asarray(candidates) + (offset - 1.5) * width,
               getattr(selection, criterion), width=width, label=covariance_type)
for ax, criterion in zip(axes, ("BIC", "AIC")):
    values = np.concatenate([getattr(s, criterion.lower()) for s in selections.values()])
    ax.set_ylim(values.min() - 0.05 * np.ptp(values), values.max())
    # A star over the lowest bar of each covariance type.
    for offset, selection in enumerate(selections.values()):
        scores = getattr(selection, criterion.lower())
        best_k = candidates[int(np.argmin(scores))]
        ax.text(best_k + (offset - 1.5) * width, scores.min(), "*", ha="center",
                va="bottom", fontsize=14)
    ax.set_xlabel("number of components")
    ax.set_title(f"{criterion} (lower is better)")
axes[0].legend(title="covariance_type")
plt.show()

# %%
# The chosen model
# ----------------
# The mixture of lowest BIC is the selection's ``best_estimator_``; its
# ellipses (two standard deviations along each axis of each covariance)
# follow the elongated clusters.

model = best.best_estimator_
fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
ax.scatter(X[:, 0], X[:, 1], c=model.predict(X), s=4, cmap="tab10", vmin=0, vmax=9)
angles = np.linspace(0, 2 * np.pi, 100)
circle = np.column_stack([np.cos(angles), np.sin(angles)])
for mean, covariance in zip(model.means_, model.covariances_):
    values, vectors = np.linalg.eigh(covariance)
    ellipse = mean + 2 * (circle * np.sqrt(values)) @ vectors.T
    ax.plot(ellipse[:, 0], ellipse[:, 1], color="black", linewidth=1)
ax.set_title(f"{best_type!r} covariances, {model.n_components} components")
plt.show()

# %%
# Time against scikit-learn
# -------------------------
# The 'full' candidates with scikit-learn, each fit followed by its ``bic``
# and ``aic``: the loop a user writes by hand. The criteria agree to
# rounding; the times are medians of 3 runs after a warm-up.


def sklearn_loop(covariance_type="full"):
    scores = []
    for k in candidates:
        gm = SklearnGaussianMixture(k, covariance_type=covariance_type,
                                    random_state=0).fit(X)
        scores.append((gm.bic(X), gm.aic(X)))
    return np.array(scores)


reference = sklearn_loop()  # also the warm-up
difference = np.max(np.abs(selections["full"].bic - reference[:, 0])
                    / np.abs(reference[:, 0]))
print(f"largest relative difference from scikit-learn's BIC ('full'): {difference:.1e}")
ours = median_time(lambda: select_n_clusters(
    X, candidates, criteria=("inertia", "bic", "aic"),
    estimator=GaussianMixture(covariance_type="full", random_state=0)))
theirs = median_time(sklearn_loop, warm_up=False)
print(f"GaussianMixture('full') for k = 2..8 with BIC and AIC, 1,500 x 2: "
      f"turbocluster {ours * 1e3:.1f} ms, scikit-learn {theirs * 1e3:.1f} ms "
      f"({theirs / ours:.1f}x)")

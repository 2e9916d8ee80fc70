"""Choosing the number of clusters: fit a candidate per number of clusters,
score each one, recommend a number per criterion, and draw the curves.

Criteria: the inertia (its elbow, by Satopaa et al.'s "Kneedle", 2011, on
the logarithm of the inertia: the point of the normalised curve farthest
below the chord joining its ends), the
mean silhouette coefficient (highest), the Calinski-Harabasz index (highest)
and the Davies-Bouldin index (lowest).
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.utils import check_array

from ._kmeans import KMeans
from ._plot import _new_axes, _require_matplotlib, cluster_colors
from ._silhouette import silhouette_samples, silhouette_score

CRITERIA = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")


def knee_point(x, y):
    """The knee of a decreasing, convex curve (Kneedle, Satopaa et al. 2011).

    Both axes are scaled to [0, 1]; the knee is the point farthest below the
    chord from the first point to the last, that is the largest
    ``(1 - x_n) - y_n``. Returns the x of that point, or None with fewer than
    three points or a flat curve.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    x_n = (x - x.min()) / np.ptp(x)
    y_n = (y - y.min()) / np.ptp(y)
    return x[int(np.argmax((1 - x_n) - y_n))].item()


class ClusterCountSelection:
    """The scores of the candidate numbers of clusters, and what they recommend.

    Attributes
    ----------
    n_clusters : ndarray of shape (n_candidates,)
    inertia, silhouette, calinski_harabasz, davies_bouldin, fit_time : ndarray
        One value per candidate (fit_time in seconds; silhouette on
        ``silhouette_sample_size`` samples when that was given).
    recommended : dict
        Criterion name -> the number of clusters it recommends (the elbow of
        the inertia; the best value of the others).
    best_n_clusters_ : int
        The silhouette's recommendation (the elbow's without a silhouette).
    best_estimator_ : estimator
        The fitted candidate with best_n_clusters_ clusters.
    estimators_ : list of estimators
        Every fitted candidate.
    """

    def __init__(self, n_clusters, scores, estimators):
        self.n_clusters = np.asarray(n_clusters)
        for name in CRITERIA + ("fit_time",):
            setattr(self, name, np.asarray(scores[name], dtype=np.float64))
        self.estimators_ = estimators
        # The elbow on a log scale: inertia falls by factors, and on a linear
        # scale the first drops alone set the chord (measured on 5 blobs: the
        # linear knee is at 4 clusters, the logarithmic one at 5).
        log_inertia = np.log(self.inertia) if np.all(self.inertia > 0) else self.inertia
        knee = knee_point(self.n_clusters, log_inertia)
        self.recommended = {
            "inertia": None if knee is None else int(knee),
            "silhouette": self._best(self.silhouette, np.nanargmax),
            "calinski_harabasz": self._best(self.calinski_harabasz, np.nanargmax),
            "davies_bouldin": self._best(self.davies_bouldin, np.nanargmin),
        }
        # The silhouette's choice, else the elbow, else the first candidate.
        self.best_n_clusters_ = next(
            (k for k in (self.recommended["silhouette"], self.recommended["inertia"])
             if k is not None), int(self.n_clusters[0]))
        self.best_estimator_ = estimators[list(self.n_clusters).index(self.best_n_clusters_)]

    def _best(self, values, arg):
        if np.all(np.isnan(values)):
            return None
        return int(self.n_clusters[arg(values)])

    def table(self):
        """The scores as a dict of columns (one row per candidate)."""
        return {"n_clusters": self.n_clusters,
                **{name: getattr(self, name) for name in CRITERIA + ("fit_time",)}}

    def to_frame(self):
        """The table as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "to_frame needs pandas: pip install 'turbocluster[cli]'") from exc
        return pd.DataFrame(self.table()).set_index("n_clusters")

    def plot_elbow(self, ax=None):
        """The inertia against the number of clusters, the elbow marked.

        Returns the matplotlib Axes (a new one on its own figure without ax).
        """
        ax = _axes(ax)
        ax.plot(self.n_clusters, self.inertia, marker="o", color="0.2")
        knee = self.recommended["inertia"]
        if knee is not None:
            at = list(self.n_clusters).index(knee)
            ax.axvline(knee, color="tab:red", linestyle="--", linewidth=1)
            ax.plot([knee], [self.inertia[at]], marker="o", color="tab:red",
                    label=f"elbow: {knee} clusters")
            ax.legend()
        ax.set_xlabel("number of clusters")
        ax.set_ylabel("inertia")
        return ax

    def plot_scores(self, criterion="silhouette", ax=None):
        """One criterion against the number of clusters, its choice marked.

        Returns the matplotlib Axes.
        """
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
        if criterion == "inertia":
            return self.plot_elbow(ax=ax)
        ax = _axes(ax)
        values = getattr(self, criterion)
        ax.plot(self.n_clusters, values, marker="o", color="0.2")
        best = self.recommended[criterion]
        if best is not None:  # None: the criterion was not computed
            ax.axvline(best, color="tab:red", linestyle="--", linewidth=1,
                       label=f"best: {best} clusters")
            ax.legend()
        ax.set_xlabel("number of clusters")
        ax.set_ylabel(criterion.replace("_", "-"))
        return ax

    def plot_silhouette_diagram(self, X, n_clusters=None, ax=None):
        """The silhouette diagram of one candidate: each cluster's sorted
        coefficients as a band, the mean as a vertical line.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data the candidates were fitted on.
        n_clusters : int, default=None
            The candidate; None: best_n_clusters_.
        ax : matplotlib Axes, default=None

        Returns the matplotlib Axes.
        """
        n_clusters = self.best_n_clusters_ if n_clusters is None else n_clusters
        labels = self.estimators_[list(self.n_clusters).index(n_clusters)].labels_
        coefficients = silhouette_samples(X, labels)
        ax = _axes(ax)
        colors = cluster_colors(n_clusters)
        bottom = 0
        for cluster in range(n_clusters):
            values = np.sort(coefficients[labels == cluster])
            top = bottom + values.size
            ax.fill_betweenx(np.arange(bottom, top), 0, values, color=colors[cluster],
                             linewidth=0)
            ax.text(-0.01, (bottom + top) / 2, str(cluster), ha="right", va="center",
                    transform=ax.get_yaxis_transform())
            bottom = top + max(1, coefficients.size // 100)  # a gap between bands
        mean = float(np.mean(coefficients))
        ax.axvline(mean, color="tab:red", linestyle="--", linewidth=1,
                   label=f"mean {mean:.3f}")
        ax.set_yticks([])
        ax.set_xlabel("silhouette coefficient")
        ax.set_ylabel("cluster", labelpad=18)
        ax.set_title(f"{n_clusters} clusters")
        ax.legend()
        return ax


def _axes(ax):
    _require_matplotlib()
    return _new_axes() if ax is None else ax


def select_n_clusters(X, n_clusters=range(2, 11), *, estimator=None, criteria=CRITERIA,
                      silhouette_sample_size=None, random_state=0):
    """Fit a clustering for each candidate number of clusters and score it.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The samples, validated once (float32 or float64 kept).
    n_clusters : iterable of int, default=range(2, 11)
        The candidates, each at least 2.
    estimator : estimator with ``n_clusters``, ``labels_`` and ``inertia_``, \
            default=None
        Cloned for each candidate with its ``n_clusters`` set; None:
        ``KMeans(random_state=0)``.
    criteria : sequence of str, default=all of CRITERIA
        The scores to compute (the others are NaN, with no recommendation):
        'inertia', 'silhouette', 'calinski_harabasz', 'davies_bouldin'.
    silhouette_sample_size : int, default=None
        Score the silhouette on this many samples drawn with random_state
        (as ``silhouette_score(sample_size=...)``); None: on all of them.
    random_state : int, RandomState instance or None, default=0
        Draws the silhouette's samples.

    Returns
    -------
    selection : ClusterCountSelection
    """
    X = check_array(X, dtype=[np.float64, np.float32], order="C")
    candidates = [int(k) for k in n_clusters]
    if not candidates or min(candidates) < 2:
        raise ValueError(f"n_clusters must be numbers of at least 2, got {candidates}")
    unknown = set(criteria) - set(CRITERIA)
    if unknown or "inertia" not in criteria:
        raise ValueError(f"criteria must include 'inertia' and come from {CRITERIA}, "
                         f"got {tuple(criteria)}")
    scorers = {
        "silhouette": lambda labels: silhouette_score(
            X, labels, sample_size=silhouette_sample_size, random_state=random_state),
        "calinski_harabasz": lambda labels: calinski_harabasz_score(X, labels),
        "davies_bouldin": lambda labels: davies_bouldin_score(X, labels),
    }
    estimator = KMeans(random_state=0) if estimator is None else estimator
    scores = {name: [] for name in CRITERIA + ("fit_time",)}
    fitted = []
    for k in candidates:
        model = clone(estimator).set_params(n_clusters=k)
        start = time.perf_counter()
        model.fit(X)
        scores["fit_time"].append(time.perf_counter() - start)
        labels = model.labels_
        scores["inertia"].append(model.inertia_)
        for name, scorer in scorers.items():
            scores[name].append(scorer(labels) if name in criteria
                                and np.unique(labels).size >= 2 else np.nan)
        fitted.append(model)
    return ClusterCountSelection(candidates, scores, fitted)

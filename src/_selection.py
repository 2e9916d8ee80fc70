"""Choosing the number of clusters: fit a candidate per number of clusters,
score each one, recommend a number per criterion, and draw the curves.

Criteria: the inertia (its elbow, by Satopaa et al.'s "Kneedle", 2011, on
the logarithm of the inertia: the point of the normalised curve farthest
below the chord joining its ends), the
mean silhouette coefficient (highest), the Calinski-Harabasz index (highest),
the Davies-Bouldin index (lowest) and, for Gaussian mixtures, the Bayesian
and Akaike information criteria (lowest).
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.utils import check_array, check_consistent_length, check_random_state

from ._kmeans import KMeans
from ._plot import _new_axes, _require_matplotlib, cluster_colors
from ._silhouette import silhouette_samples, silhouette_score
from ._threads import effective_n_threads
from ._validation import (
    Integral,
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)

CRITERIA = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "aic")
# Those a clustering without a likelihood (KMeans, MiniBatchKMeans) gives.
CLUSTERING_CRITERIA = CRITERIA[:4]


def knee_point(x, y):
    """The knee of a decreasing, convex curve (Kneedle, Satopaa et al. 2011).

    Both axes are scaled to [0, 1]; the knee is the point farthest below the
    chord from the first point to the last, that is the largest
    ``(1 - x_n) - y_n``.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        The abscissae, increasing (for instance the numbers of clusters).
    y : array-like of shape (n_points,)
        The curve at each x, decreasing and convex (for instance the
        inertia, or its logarithm as :func:`select_n_clusters` uses).

    Returns
    -------
    knee : float or None
        The x of the knee; None with fewer than three points or a flat
        curve.

    Raises
    ------
    ValueError
        If x and y are not 1-D, of the same length, finite and real.

    See Also
    --------
    select_n_clusters : Applies it to the logarithm of the inertia.

    Notes
    -----
    Time and memory O(n_points).

    Examples
    --------
    >>> from turbocluster import knee_point
    >>> knee_point([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8.5])
    3.0
    >>> knee_point([1, 2], [10, 5]) is None
    True
    """
    x, y = _curve(x, "x"), _curve(y, "y")
    check_consistent_length(x, y)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    x_n = (x - x.min()) / np.ptp(x)
    y_n = (y - y.min()) / np.ptp(y)
    return x[int(np.argmax((1 - x_n) - y_n))].item()


def _curve(values, name):
    """One coordinate of a curve's points, as a finite float64 array."""
    if np.ndim(values) != 1:
        raise ValueError(f"{name} must be 1-D, one value per point; got an array of "
                         f"shape {np.shape(values)}.")
    return check_array(values, ensure_2d=False, ensure_min_samples=0,
                       dtype=np.float64, input_name=name)


class ClusterCountSelection:
    """The scores of the candidate numbers of clusters, and what they recommend.

    Returned by :func:`select_n_clusters`; not meant to be built by hand.

    Parameters
    ----------
    n_clusters : array-like of shape (n_candidates,)
        The candidate numbers of clusters.
    scores : dict
        Criterion name (and 'fit_time') -> one value per candidate.
    estimators : list of estimators
        The fitted candidates, in the order of ``n_clusters``.
    labels : list of ndarray, default=None
        Each candidate's labels; None: their ``labels_``.

    Attributes
    ----------
    n_clusters : ndarray of shape (n_candidates,)
    inertia, silhouette, calinski_harabasz, davies_bouldin, bic, aic, \
fit_time : ndarray
        One value per candidate (fit_time in seconds; silhouette on
        ``silhouette_sample_size`` samples when that was given; NaN for a
        criterion not computed). For a mixture, the inertia is that of its
        most probable components (the sum of squared distances of the samples
        to the mean of theirs).
    recommended : dict
        Criterion name -> the number of clusters it recommends (the elbow of
        the inertia; the best value of the others).
    best_n_clusters_ : int
        The BIC's recommendation for a mixture; otherwise the silhouette's
        (the elbow's without a silhouette).
    best_estimator_ : estimator
        The fitted candidate with ``best_n_clusters_`` clusters.
    best_labels_ : ndarray of shape (n_samples,)
        Its labels (a mixture's: the most probable components).
    estimators_ : list of estimators
        Every fitted candidate.

    See Also
    --------
    select_n_clusters : Fits the candidates and builds this object.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from turbocluster import select_n_clusters
    >>> X, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.6,
    ...                   random_state=0)
    >>> selection = select_n_clusters(X, range(2, 8))
    >>> selection.n_clusters
    array([2, 3, 4, 5, 6, 7])
    >>> selection.recommended["silhouette"], selection.best_n_clusters_
    (4, 4)
    >>> selection.best_estimator_.n_clusters
    4
    >>> sorted(selection.table())  # doctest: +NORMALIZE_WHITESPACE
    ['calinski_harabasz', 'davies_bouldin', 'fit_time', 'inertia',
     'n_clusters', 'silhouette']
    """

    def __init__(self, n_clusters, scores, estimators, labels=None):
        self.n_clusters = np.asarray(n_clusters)
        # Each candidate's labels (a mixture's most probable components).
        self._labels = ([estimator.labels_ for estimator in estimators]
                        if labels is None else labels)
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
        for name in ("bic", "aic"):  # mixtures only
            if not np.all(np.isnan(getattr(self, name))):
                self.recommended[name] = self._best(getattr(self, name), np.nanargmin)
        # The BIC's choice (mixtures), else the silhouette's, else the elbow,
        # else the first candidate.
        self.best_n_clusters_ = next(
            (k for k in (self.recommended.get("bic"), self.recommended["silhouette"],
                         self.recommended["inertia"])
             if k is not None), int(self.n_clusters[0]))
        best = list(self.n_clusters).index(self.best_n_clusters_)
        self.best_estimator_ = estimators[best]
        self.best_labels_ = self._labels[best]

    def _best(self, values, arg):
        if np.all(np.isnan(values)):
            return None
        return int(self.n_clusters[arg(values)])

    def table(self):
        """The scores as a dict of columns, one row per candidate.

        Returns
        -------
        table : dict of str to ndarray of shape (n_candidates,)
            'n_clusters', each criterion (the BIC and AIC columns only where
            they were computed: mixtures) and 'fit_time'.
        """
        names = [name for name in CRITERIA
                 if name in CLUSTERING_CRITERIA
                 or not np.all(np.isnan(getattr(self, name)))]
        return {"n_clusters": self.n_clusters,
                **{name: getattr(self, name) for name in names + ["fit_time"]}}

    def to_frame(self):
        """The table as a pandas DataFrame (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            :meth:`table`'s columns, indexed by 'n_clusters'.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "to_frame needs pandas: pip install 'turbocluster[cli]'") from exc
        return pd.DataFrame(self.table()).set_index("n_clusters")

    def plot_elbow(self, ax=None):
        """The inertia against the number of clusters, the elbow marked.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None: a new Axes on its own figure.

        Returns
        -------
        ax : matplotlib Axes
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

        Parameters
        ----------
        criterion : {'silhouette', 'calinski_harabasz', 'davies_bouldin', \
'inertia', 'bic', 'aic'}, default='silhouette'
            The score to draw ('bic' and 'aic' for mixtures only).
        ax : matplotlib Axes, default=None
            Where to draw; None: a new Axes on its own figure.

        Returns
        -------
        ax : matplotlib Axes
        """
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
        if criterion not in self.recommended:
            raise ValueError(f"{criterion!r} was not computed: it needs a Gaussian "
                             "mixture estimator")
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
            The candidate; None: ``best_n_clusters_``.
        ax : matplotlib Axes, default=None
            Where to draw; None: a new Axes on its own figure.

        Returns
        -------
        ax : matplotlib Axes
        """
        n_clusters = self.best_n_clusters_ if n_clusters is None else n_clusters
        labels = self._labels[list(self.n_clusters).index(n_clusters)]
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


def select_n_clusters(X, n_clusters=range(2, 11), *, estimator=None, criteria=None,
                      silhouette_sample_size=None, random_state=0):
    """Fit a clustering for each candidate number of clusters and score it.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The samples, validated once (float32 or float64 kept); for KMeans
        candidates also centered once, with their squared norms.
    n_clusters : iterable of int, default=range(2, 11)
        The candidates, each at least 2.
    estimator : estimator, default=None
        Cloned for each candidate. A clustering with ``n_clusters``,
        ``labels_`` and ``inertia_`` (KMeans, MiniBatchKMeans), or a Gaussian
        mixture with ``n_components``, ``predict``, ``bic`` and ``aic``
        (GaussianMixture, BayesianGaussianMixture without bic/aic). None:
        ``KMeans(random_state=0)``.
    criteria : sequence of str, default=None
        The scores to compute (the others are NaN, with no recommendation):
        'inertia', 'silhouette', 'calinski_harabasz', 'davies_bouldin', and
        for a mixture with them 'bic' and 'aic'. None: all that apply. The
        silhouette, Calinski-Harabasz and Davies-Bouldin scores are NaN for
        a candidate whose labels (on the silhouette's subset, for it) are not
        2 to n_samples - 1 distinct values, where they are undefined.
    silhouette_sample_size : int, default=None
        Score the silhouette on this many samples drawn with random_state
        (as ``silhouette_score(sample_size=...)``); None: on all of them.
    random_state : int, RandomState instance or None, default=0
        Draws the silhouette's samples.

    Returns
    -------
    selection : ClusterCountSelection
        The scores of each candidate, the recommendations and the fitted
        candidates.

    See Also
    --------
    ClusterCountSelection : What it returns, with its plots.
    knee_point : The elbow of the inertia.

    Notes
    -----
    Not in scikit-learn. Time: one fit per candidate, plus per candidate the
    silhouette (O(m^2 * n_features) on m samples, m = n_samples or
    ``silhouette_sample_size``) and the Calinski-Harabasz and Davies-Bouldin
    indices (O(n_samples * n_features)). Memory: the fitted candidates and
    their labels; KMeans candidates share one centered copy of X.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from turbocluster import GaussianMixture, select_n_clusters
    >>> X, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.6,
    ...                   random_state=0)
    >>> selection = select_n_clusters(X, range(2, 8))
    >>> selection.recommended
    {'inertia': 4, 'silhouette': 4, 'calinski_harabasz': 4, 'davies_bouldin': 4}
    >>> mixtures = select_n_clusters(
    ...     X, range(2, 6), estimator=GaussianMixture(random_state=0),
    ...     criteria=("inertia", "bic", "aic"))
    >>> mixtures.recommended["bic"], mixtures.best_n_clusters_
    (4, 4)
    """
    candidates = _check_candidates(n_clusters)
    estimator = KMeans(random_state=0) if estimator is None else estimator
    criteria = _check_selection_params(estimator, criteria, silhouette_sample_size,
                                       random_state)
    X = check_array(X, dtype=[np.float64, np.float32], order="C")
    mixture = "n_components" in estimator.get_params()
    likelihood = mixture and hasattr(estimator, "bic") and hasattr(estimator, "aic")
    if criteria is None:
        criteria = CRITERIA if likelihood else CLUSTERING_CRITERIA
    unknown = set(criteria) - set(CRITERIA)
    if unknown or "inertia" not in criteria:
        raise ValueError(f"criteria must include 'inertia' and come from {CRITERIA}, "
                         f"got {tuple(criteria)}")
    if not likelihood and {"bic", "aic"} & set(criteria):
        raise ValueError("'bic' and 'aic' need a Gaussian mixture estimator with bic "
                         f"and aic methods, got {type(estimator).__name__}")
    def silhouette(labels):
        # silhouette_score's subset, drawn here (the same draw) so that a
        # subset with too few or too many labels scores NaN, not an error.
        if silhouette_sample_size is None:
            return silhouette_score(X, labels) if _scorable(labels) else np.nan
        subset = check_random_state(random_state).permutation(
            X.shape[0])[:silhouette_sample_size]
        return (silhouette_score(X[subset], labels[subset])
                if _scorable(labels[subset]) else np.nan)

    scorers = {
        "silhouette": silhouette,
        "calinski_harabasz": lambda labels: (calinski_harabasz_score(X, labels)
                                             if _scorable(labels) else np.nan),
        "davies_bouldin": lambda labels: (davies_bouldin_score(X, labels)
                                          if _scorable(labels) else np.nan),
    }
    if likelihood:
        scorers["bic"] = lambda labels: model.bic(X)
        scorers["aic"] = lambda labels: model.aic(X)
    scores = {name: [] for name in CRITERIA + ("fit_time",)}
    fitted, all_labels = [], []
    # KMeans candidates share one centered copy of X and its squared norms.
    prepared = None
    if type(estimator) is KMeans:
        prepared = clone(estimator)._prepare(X, effective_n_threads())
    for k in candidates:
        model = clone(estimator).set_params(**{
            "n_components" if mixture else "n_clusters": k})
        start = time.perf_counter()
        if mixture:
            labels = model.fit_predict(X)
        elif prepared is not None:
            model._validate_params()
            model.n_features_in_ = X.shape[1]
            model._check_n_samples(X)
            labels = model._fit_validated(X, None, prepared).labels_
        else:
            labels = model.fit(X).labels_
        scores["fit_time"].append(time.perf_counter() - start)
        scores["inertia"].append(_within_cluster_sum_of_squares(X, labels) if mixture
                                 else model.inertia_)
        for name in ("bic", "aic"):
            if name not in scorers:
                scores[name].append(np.nan)
        for name, scorer in scorers.items():
            scores[name].append(scorer(labels) if name in criteria else np.nan)
        fitted.append(model)
        all_labels.append(labels)
    return ClusterCountSelection(candidates, scores, fitted, all_labels)


def _scorable(labels):
    """Whether the silhouette, Calinski-Harabasz and Davies-Bouldin scores
    are defined: from 2 to n_samples - 1 distinct labels (scikit-learn's
    check; a candidate with fewer distinct clusters, or as many clusters as
    samples, scores NaN)."""
    return 2 <= np.unique(labels).size < labels.shape[0]


def _invalid(name, expected, value):
    return InvalidParameterError(
        f"The {name!r} parameter of select_n_clusters must be {expected}. Got "
        f"{value!r} instead.")


def _check_candidates(n_clusters):
    """The candidate numbers of clusters, as a list of int (each at least 2)."""
    if isinstance(n_clusters, str):
        raise _invalid("n_clusters", "an iterable of int", n_clusters)
    try:
        candidates = list(n_clusters)
    except TypeError:
        raise _invalid("n_clusters", "an iterable of int", n_clusters) from None
    if not all(isinstance(k, Integral) and not isinstance(k, bool) for k in candidates):
        raise _invalid("n_clusters", "an iterable of int", n_clusters)
    if not candidates or min(candidates) < 2:
        raise ValueError(f"n_clusters must be numbers of at least 2, got {candidates}")
    return [int(k) for k in candidates]


def _check_selection_params(estimator, criteria, silhouette_sample_size, random_state):
    """The other parameters' types; returns criteria as a tuple (or None)."""
    if not (hasattr(estimator, "get_params") and hasattr(estimator, "fit")):
        raise _invalid("estimator", "an estimator (with get_params and fit)", estimator)
    if criteria is not None:
        try:
            names = None if isinstance(criteria, str) else tuple(criteria)
        except TypeError:
            names = None
        if names is None or not all(isinstance(name, str) for name in names):
            raise _invalid("criteria", "an iterable of str", criteria)
        criteria = names
    validate_parameter_constraints(
        {"silhouette_sample_size": [Interval(Integral, 1, None, closed="left"), None],
         "random_state": ["random_state"]},
        {"silhouette_sample_size": silhouette_sample_size, "random_state": random_state},
        caller_name="select_n_clusters")
    return criteria


def _within_cluster_sum_of_squares(X, labels):
    """Sum over samples of the squared distance to the mean of their cluster."""
    total = 0.0
    for cluster in np.unique(labels):
        members = np.asarray(X[labels == cluster], dtype=np.float64)
        total += float(np.sum((members - members.mean(axis=0)) ** 2))
    return total

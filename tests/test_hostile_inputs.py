"""Hostile inputs for every public estimator, method and function.

One table, one test. Each case is a call made twice: once on turbocluster's
name, once on scikit-learn 1.9's counterpart (the reference, run at test
time on the same fresh inputs). Where scikit-learn raises, ours must raise the
same exception type (or a subclass) and both messages must be equal or both
name the case's key phrase (the offending parameter or problem). Where it
accepts, ours must accept and give the same result on easy data (the same
partition, the same numbers to a tolerance); where it warns, ours must warn
with the same category. Names without a counterpart (the anomaly detector,
DBSCAN.predict, select_n_clusters, knee_point, linkage_matrix,
plot_dendrogram) have their expected outcome written in the table, by
scikit-learn's conventions: ValueError for a bad value, TypeError for a bad
type, InvalidParameterError for a parameter constraint, NotFittedError before
fit; an accepted input gives the result of the same call on its clean
numeric equivalent.

Every case also checks that the caller's inputs are unchanged afterwards, and
runs in this process under a watchdog: a crash or a hang fails the module.
"""

import copy
import faulthandler
import importlib.util
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Optional

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.cluster
import sklearn.metrics
import sklearn.mixture
from sklearn.neighbors import kneighbors_graph
from sklearn.exceptions import NotFittedError
# Private in scikit-learn (the type its parameter checks raise): an import
# error here says it moved.
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

import turbocluster as tc

OURS = SimpleNamespace(
    KMeans=tc.KMeans, MiniBatchKMeans=tc.MiniBatchKMeans,
    kmeans_plusplus=tc.kmeans_plusplus, GaussianMixture=tc.GaussianMixture,
    BayesianGaussianMixture=tc.BayesianGaussianMixture, DBSCAN=tc.DBSCAN,
    dbscan=tc.dbscan, AgglomerativeClustering=tc.AgglomerativeClustering,
    silhouette_samples=tc.silhouette_samples, silhouette_score=tc.silhouette_score,
)
SKLEARN = SimpleNamespace(
    KMeans=sklearn.cluster.KMeans, MiniBatchKMeans=sklearn.cluster.MiniBatchKMeans,
    kmeans_plusplus=sklearn.cluster.kmeans_plusplus,
    GaussianMixture=sklearn.mixture.GaussianMixture,
    BayesianGaussianMixture=sklearn.mixture.BayesianGaussianMixture,
    DBSCAN=sklearn.cluster.DBSCAN, dbscan=sklearn.cluster.dbscan,
    AgglomerativeClustering=sklearn.cluster.AgglomerativeClustering,
    silhouette_samples=sklearn.metrics.silhouette_samples,
    silhouette_score=sklearn.metrics.silhouette_score,
)

_HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# Seconds a case may run before the watchdog ends the process (a hang).
WATCHDOG_S = 60

###############################################################################
# Data: two tight, well separated groups, so that every method finds the same
# partition whatever its seeding.

_rng = np.random.RandomState(0)
X_FIT = np.r_[_rng.normal(0.0, 0.3, (6, 2)), _rng.normal(5.0, 0.3, (6, 2))]
LABELS = np.repeat([0, 1], 6)
X_NEW = np.array([[0.2, -0.1], [5.1, 4.8], [-0.3, 0.1], [4.7, 5.2]])


def _with(X, value, at=(1, 0)):
    X = np.array(X, dtype=object if value is None else np.float64)
    X[at] = value
    return X


def _unsorted_csr(X):
    """CSR whose column indices run backwards in every row."""
    X = sp.csr_matrix(X)
    for i in range(X.shape[0]):
        row = slice(X.indptr[i], X.indptr[i + 1])
        X.indices[row], X.data[row] = X.indices[row][::-1].copy(), X.data[row][::-1].copy()
    X.has_sorted_indices = False
    return X


def _duplicated_csr(X):
    """CSR whose entries are each split into two halves at the same index."""
    X = sp.csr_matrix(X)
    n_rows = X.shape[0]
    data = np.repeat(X.data / 2, 2)
    indices = np.repeat(X.indices, 2)
    indptr = 2 * X.indptr
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, X.shape[1]))


def _with_zeros(X):
    X = np.array(X, dtype=np.float64)
    X[::3, 1] = 0.0
    return X


def _explicit_zeros_csr(X):
    """CSR that stores every entry, the zeros of _with_zeros(X) too."""
    X = _with_zeros(X)
    n_rows, n_columns = X.shape
    return sp.csr_matrix((X.ravel(), np.tile(np.arange(n_columns), n_rows),
                          np.arange(0, X.size + 1, n_columns)), shape=X.shape)


def _large_index_csr(X):
    X = sp.csr_matrix(X)
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    return X


def _nullable_frame(X):
    frame = pd.DataFrame(np.rint(3 * X), columns=["a", "b"]).astype("Int64")
    frame.iloc[1, 0] = pd.NA
    return frame


def _category_frame(X):
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame["b"] = pd.Categorical(np.where(X[:, 1] > 2.5, "high", "low"))
    return frame


def _mixed_frame(X):
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["f1"] = ["low", "high"] * (X.shape[0] // 2)
    return frame


@dataclass(frozen=True)
class Raises:
    """The outcome written in the table: this exception, naming this phrase."""
    type: type
    phrase: str


class Accepts:
    """The outcome written in the table: a result, that of the same call on
    the clean numeric equivalent of the input."""


ACCEPTS = Accepts()


class Survives:
    """The outcome written in the table: a result or a ValueError, no more
    (for inputs where no answer means anything)."""


SURVIVES = Survives()


@dataclass(frozen=True)
class Variant:
    """A hostile form of a dense X: make(X) gives it from a clean X, clean(X)
    its numeric equivalent where it is accepted; expect is the convention's
    outcome (for names with no counterpart); phrase the key phrase the
    messages must share."""
    make: Callable
    expect: object
    clean: Optional[Callable] = None

    @property
    def phrase(self):
        return self.expect.phrase if isinstance(self.expect, Raises) else None


_NAN = Raises(ValueError, "NaN")
_INF = Raises(ValueError, "infinity")
_STRING = Raises(ValueError, "string")

DENSE_VARIANTS = {
    "nan": Variant(lambda X: _with(X, np.nan), _NAN),
    "posinf": Variant(lambda X: _with(X, np.inf), _INF),
    "neginf": Variant(lambda X: _with(X, -np.inf), _INF),
    "all_nan": Variant(lambda X: np.full_like(X, np.nan), _NAN),
    "0_samples": Variant(lambda X: np.empty((0, X.shape[1])),
                         Raises(ValueError, "0 sample(s)")),
    "0_features": Variant(lambda X: np.empty((X.shape[0], 0)),
                          Raises(ValueError, "0 feature(s)")),
    "1d": Variant(lambda X: X[:, 0].copy(), Raises(ValueError, "Expected 2D array")),
    "3d": Variant(lambda X: X[:, :, None].copy(), Raises(ValueError, "dim 3")),
    "scalar": Variant(lambda X: 3.0, Raises(ValueError, "Expected 2D array")),
    "none": Variant(lambda X: None, Raises(ValueError, "Expected 2D array")),
    "strings": Variant(lambda X: np.array([["a", "b"]] * X.shape[0]), _STRING),
    "numeric_strings": Variant(lambda X: X.astype(str), ACCEPTS, lambda X: X),
    "object_numbers": Variant(lambda X: X.astype(object), ACCEPTS, lambda X: X),
    "object_mixed": Variant(
        lambda X: np.array([[x, "a"] for x in X[:, 0]], dtype=object), _STRING),
    "complex": Variant(lambda X: X + 1j, Raises(ValueError, "Complex data")),
    "complex_real": Variant(lambda X: X.astype(np.complex128),
                            Raises(ValueError, "Complex data")),
    "list": Variant(lambda X: X.tolist(), ACCEPTS, lambda X: X),
    "bool": Variant(lambda X: X > 2.5, ACCEPTS, lambda X: (X > 2.5).astype(float)),
    "int": Variant(lambda X: np.rint(3 * X).astype(np.int64), ACCEPTS,
                   lambda X: np.rint(3 * X)),
    "float16": Variant(lambda X: X.astype(np.float16), ACCEPTS,
                       lambda X: X.astype(np.float16).astype(np.float64)),
    "float32_fortran": Variant(lambda X: np.asfortranarray(X, dtype=np.float32), ACCEPTS,
                               lambda X: X.astype(np.float32)),
    "strided": Variant(lambda X: np.repeat(X, 2, axis=0)[::2], ACCEPTS, lambda X: X),
    "frame": Variant(lambda X: pd.DataFrame(X, columns=["a", "b"]), ACCEPTS,
                     lambda X: X),
    "frame_text_column": Variant(_mixed_frame, _STRING),
    "frame_nullable_na": Variant(_nullable_frame, _NAN),
    "frame_category": Variant(_category_frame, _STRING),
    "empty_list": Variant(lambda X: [], Raises(ValueError, "Expected 2D array")),
    "ragged": Variant(lambda X: [[1.0, 2.0]] * (X.shape[0] - 1) + [[1.0]],
                      Raises(ValueError, "inhomogeneous")),
    "object_none": Variant(lambda X: _with(X.astype(object), None), _NAN),
    "tuples": Variant(lambda X: tuple(map(tuple, X)), ACCEPTS, lambda X: X),
    "one_sample": Variant(lambda X: X[:1].copy(), ACCEPTS, lambda X: X[:1]),
    # Far from 1 but with finite squared distances in float64 (not in float32).
    "huge_values": Variant(lambda X: X * 1e150, ACCEPTS, lambda X: X * 1e150),
    "tiny_values": Variant(lambda X: X * 1e-150, ACCEPTS, lambda X: X * 1e-150),
}

# Where squares overflow float64, or the values are subnormal, neither
# library's answer means anything (scikit-learn returns one cluster, all
# noise or a ValueError, by estimator): the outcome required is only a result
# or a ValueError, no crash, no hang, the input unchanged.
OVERFLOW_VARIANTS = {
    "squares_overflow_values": X_FIT * 1e155,
    "overflowing_values": X_FIT * 1e200,
    "near_max_values": X_FIT * 1e306,
    "max_values": np.where(X_FIT > 2.5, np.finfo(np.float64).max, -np.finfo(np.float64).max),
    "subnormal_values": X_FIT * 1e-310,
}

SPARSE_VARIANTS = {
    "sparse_nan": Variant(lambda X: sp.csr_matrix(_with(X, np.nan)), _NAN),
    "sparse_posinf": Variant(lambda X: sp.csr_matrix(_with(X, np.inf)), _INF),
    "sparse_neginf": Variant(lambda X: sp.csr_matrix(_with(X, -np.inf)), _INF),
    "sparse_0_samples": Variant(lambda X: sp.csr_matrix((0, X.shape[1])),
                                Raises(ValueError, "0 sample(s)")),
    "sparse_0_features": Variant(lambda X: sp.csr_matrix((X.shape[0], 0)),
                                 Raises(ValueError, "0 feature(s)")),
    "sparse_complex": Variant(lambda X: sp.csr_matrix(X + 1j),
                              Raises(ValueError, "Complex data")),
    "sparse_bool": Variant(lambda X: sp.csr_matrix(X > 2.5), ACCEPTS,
                           lambda X: sp.csr_matrix((X > 2.5).astype(float))),
    "sparse_int": Variant(lambda X: sp.csr_matrix(np.rint(3 * X).astype(np.int64)),
                          ACCEPTS, lambda X: sp.csr_matrix(np.rint(3 * X))),
    "sparse_csc": Variant(lambda X: sp.csc_matrix(X), ACCEPTS, sp.csr_matrix),
    "sparse_coo": Variant(lambda X: sp.coo_matrix(X), ACCEPTS, sp.csr_matrix),
    "sparse_int64_indices": Variant(lambda X: _large_index_csr(X), ACCEPTS,
                                    sp.csr_matrix),
    "sparse_unsorted_indices": Variant(_unsorted_csr, ACCEPTS, sp.csr_matrix),
    "sparse_duplicates": Variant(_duplicated_csr, ACCEPTS, sp.csr_matrix),
    "sparse_explicit_zeros": Variant(_explicit_zeros_csr, ACCEPTS,
                                     lambda X: sp.csr_matrix(_with_zeros(X))),
}


PREDICT_ONLY_VARIANTS = {
    "wrong_n_features": Variant(lambda X: np.c_[X, X], Raises(ValueError, "features")),
    "one_feature": Variant(lambda X: X[:, :1].copy(), Raises(ValueError, "features")),
    # Fitted without feature names: a frame warns (UserWarning), is accepted.
    "frame_renamed": Variant(lambda X: pd.DataFrame(X, columns=["x", "y"]), ACCEPTS,
                             lambda X: X),
}

###############################################################################
# Cases


@dataclass
class Case:
    """call(ns, **inputs) on OURS and, unless expect is given, on SKLEARN.

    inputs() gives fresh inputs for each call (the caller's arrays, checked
    unchanged afterwards). phrase: the key phrase of a raised message.
    expect: our outcome where it is written in the table (no counterpart, or
    a deviation). clean_inputs: for ACCEPTS, the inputs whose result ours
    must reproduce. deviation: why we differ from scikit-learn on purpose.
    """
    id: str
    call: Callable
    inputs: Callable
    phrase: Optional[str] = None
    expect: object = None
    clean_inputs: Optional[Callable] = None
    deviation: Optional[str] = None


CASES = []


def case(id, call, inputs=dict, phrase=None, expect=None, **kwargs):
    CASES.append(Case(id, call, inputs, phrase, expect, **kwargs))


def _inputs(**values):
    """A factory of fresh copies of the given inputs."""
    return lambda: copy.deepcopy(values)


def _n_rows(X):
    shape = getattr(X, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else len(LABELS)
    return len(X) if isinstance(X, list) else len(LABELS)


def _labels_for(X):
    return np.resize(LABELS, _n_rows(X)) if _n_rows(X) != len(LABELS) else LABELS


# -- the fitted models the methods are called on ------------------------------

_KMEANS = dict(n_clusters=2, n_init=1, random_state=0)
_MINIBATCH = dict(n_clusters=2, n_init=1, batch_size=6, max_iter=5, random_state=0)
_MIXTURE = dict(n_components=2, random_state=0)
_BAYES = dict(n_components=2, random_state=0, max_iter=200)
_DBSCAN = dict(eps=1.0, min_samples=3)
_AGGLO = dict(n_clusters=2)


def _kmeans(ns, **params):
    return ns.KMeans(**{**_KMEANS, **params})


def _minibatch(ns, **params):
    return ns.MiniBatchKMeans(**{**_MINIBATCH, **params})


def _mixture(ns, **params):
    return ns.GaussianMixture(**{**_MIXTURE, **params})


def _bayes(ns, **params):
    return ns.BayesianGaussianMixture(**{**_BAYES, **params})


def _detector(ns, **params):
    return tc.GaussianMixtureAnomalyDetector(**{**_MIXTURE, **params})


def _dbscan_est(ns, **params):
    return ns.DBSCAN(**{**_DBSCAN, **params})


def _agglo(ns, **params):
    return ns.AgglomerativeClustering(**{**_AGGLO, **params})


def _neighbours_graph(X):
    # A connectivity callable: each sample linked to its 3 nearest.
    return kneighbors_graph(X, n_neighbors=min(3, X.shape[0] - 1), include_self=False)


# Fit-time targets: name -> call(ns, X); "ours only" names have no counterpart.
FIT_TARGETS = {
    "KMeans.fit[lloyd]": lambda ns, X: _kmeans(ns).fit(X),
    "KMeans.fit[elkan]": lambda ns, X: _kmeans(ns, algorithm="elkan").fit(X),
    "KMeans.fit[random_init]": lambda ns, X: _kmeans(ns, init="random").fit(X),
    "KMeans.fit_predict": lambda ns, X: _kmeans(ns).fit_predict(X),
    "KMeans.fit_transform": lambda ns, X: _kmeans(ns).fit_transform(X),
    "MiniBatchKMeans.fit": lambda ns, X: _minibatch(ns).fit(X),
    "MiniBatchKMeans.partial_fit": lambda ns, X: _minibatch(ns).partial_fit(X),
    "MiniBatchKMeans.fit_predict": lambda ns, X: _minibatch(ns).fit_predict(X),
    "MiniBatchKMeans.fit_transform": lambda ns, X: _minibatch(ns).fit_transform(X),
    "kmeans_plusplus": lambda ns, X: ns.kmeans_plusplus(X, 2, random_state=0),
    "GaussianMixture.fit": lambda ns, X: _mixture(ns).fit(X),
    "GaussianMixture.fit[diag]": lambda ns, X: _mixture(ns, covariance_type="diag").fit(X),
    "GaussianMixture.fit_predict": lambda ns, X: _mixture(ns).fit_predict(X),
    "BayesianGaussianMixture.fit": lambda ns, X: _bayes(ns).fit(X),
    "BayesianGaussianMixture.fit_predict": lambda ns, X: _bayes(ns).fit_predict(X),
    "DBSCAN.fit": lambda ns, X: _dbscan_est(ns).fit(X),
    "DBSCAN.fit[manhattan]": lambda ns, X: _dbscan_est(ns, metric="manhattan").fit(X),
    "DBSCAN.fit_predict": lambda ns, X: _dbscan_est(ns).fit_predict(X),
    "dbscan": lambda ns, X: ns.dbscan(X, **_DBSCAN),
    "AgglomerativeClustering.fit[ward]": lambda ns, X: _agglo(ns).fit(X),
    "AgglomerativeClustering.fit[single]": lambda ns, X: _agglo(
        ns, linkage="single").fit(X),
    "AgglomerativeClustering.fit[average]": lambda ns, X: _agglo(
        ns, linkage="average", metric="manhattan").fit(X),
    "AgglomerativeClustering.fit_predict": lambda ns, X: _agglo(ns).fit_predict(X),
    "AgglomerativeClustering.fit[ward,graph]": lambda ns, X: _agglo(
        ns, connectivity=_neighbours_graph).fit(X),
    "AgglomerativeClustering.fit[average,graph]": lambda ns, X: _agglo(
        ns, linkage="average", connectivity=_neighbours_graph).fit(X),
    "silhouette_samples": lambda ns, X: ns.silhouette_samples(X, _labels_for(X)),
    "silhouette_score": lambda ns, X: ns.silhouette_score(X, _labels_for(X)),
    "silhouette_score[sample_size]": lambda ns, X: ns.silhouette_score(
        X, _labels_for(X), sample_size=10, random_state=0),
}
FIT_TARGETS_OURS_ONLY = {
    "GaussianMixtureAnomalyDetector.fit": lambda ns, X: _detector(ns).fit(X),
    "GaussianMixtureAnomalyDetector.fit_predict": lambda ns, X: _detector(
        ns).fit_predict(X),
    "select_n_clusters": lambda ns, X: tc.select_n_clusters(X, n_clusters=[2, 3]),
}
# Those that take sparse X.
SPARSE_FIT_TARGETS = [
    "KMeans.fit[lloyd]", "KMeans.fit[elkan]", "KMeans.fit_transform",
    "MiniBatchKMeans.fit", "MiniBatchKMeans.partial_fit", "kmeans_plusplus",
    "DBSCAN.fit", "DBSCAN.fit[manhattan]", "dbscan", "silhouette_samples",
    "silhouette_score",
]

# Methods of a fitted model: name -> (fit(ns) -> model, call(model, X)).
PREDICT_TARGETS = {
    "KMeans.predict": (lambda ns: _kmeans(ns).fit(X_FIT), lambda m, X: m.predict(X)),
    "KMeans.transform": (lambda ns: _kmeans(ns).fit(X_FIT), lambda m, X: m.transform(X)),
    "KMeans.score": (lambda ns: _kmeans(ns).fit(X_FIT), lambda m, X: m.score(X)),
    "KMeans[sparse].predict": (lambda ns: _kmeans(ns).fit(sp.csr_matrix(X_FIT)),
                               lambda m, X: m.predict(X)),
    "MiniBatchKMeans.predict": (lambda ns: _minibatch(ns).fit(X_FIT),
                                lambda m, X: m.predict(X)),
    "MiniBatchKMeans.transform": (lambda ns: _minibatch(ns).fit(X_FIT),
                                  lambda m, X: m.transform(X)),
    "MiniBatchKMeans.score": (lambda ns: _minibatch(ns).fit(X_FIT),
                              lambda m, X: m.score(X)),
    "MiniBatchKMeans.partial_fit[fitted]": (lambda ns: _minibatch(ns).fit(X_FIT),
                                            lambda m, X: m.partial_fit(X)),
    "GaussianMixture.predict": (lambda ns: _mixture(ns).fit(X_FIT),
                                lambda m, X: m.predict(X)),
    "GaussianMixture.predict_proba": (lambda ns: _mixture(ns).fit(X_FIT),
                                      lambda m, X: m.predict_proba(X)),
    "GaussianMixture.score": (lambda ns: _mixture(ns).fit(X_FIT), lambda m, X: m.score(X)),
    "GaussianMixture.score_samples": (lambda ns: _mixture(ns).fit(X_FIT),
                                      lambda m, X: m.score_samples(X)),
    "GaussianMixture.bic": (lambda ns: _mixture(ns).fit(X_FIT), lambda m, X: m.bic(X)),
    "GaussianMixture.aic": (lambda ns: _mixture(ns).fit(X_FIT), lambda m, X: m.aic(X)),
    "BayesianGaussianMixture.predict": (lambda ns: _bayes(ns).fit(X_FIT),
                                        lambda m, X: m.predict(X)),
    "BayesianGaussianMixture.predict_proba": (lambda ns: _bayes(ns).fit(X_FIT),
                                              lambda m, X: m.predict_proba(X)),
    "BayesianGaussianMixture.score": (lambda ns: _bayes(ns).fit(X_FIT),
                                      lambda m, X: m.score(X)),
    "BayesianGaussianMixture.score_samples": (lambda ns: _bayes(ns).fit(X_FIT),
                                              lambda m, X: m.score_samples(X)),
}
PREDICT_TARGETS_OURS_ONLY = {
    "GaussianMixtureAnomalyDetector.predict": (
        lambda ns: _detector(ns).fit(X_FIT), lambda m, X: m.predict(X)),
    "GaussianMixtureAnomalyDetector.decision_function": (
        lambda ns: _detector(ns).fit(X_FIT), lambda m, X: m.decision_function(X)),
    "GaussianMixtureAnomalyDetector.score_samples": (
        lambda ns: _detector(ns).fit(X_FIT), lambda m, X: m.score_samples(X)),
    "GaussianMixtureAnomalyDetector.score": (
        lambda ns: _detector(ns).fit(X_FIT), lambda m, X: m.score(X)),
    "DBSCAN.predict": (lambda ns: _dbscan_est(ns).fit(X_FIT), lambda m, X: m.predict(X)),
    "DBSCAN[manhattan].predict": (lambda ns: _dbscan_est(ns, metric="manhattan").fit(X_FIT),
                                  lambda m, X: m.predict(X)),
}
SPARSE_PREDICT_TARGETS = ["KMeans.predict", "KMeans.transform", "KMeans.score",
                          "KMeans[sparse].predict", "MiniBatchKMeans.predict"]
SPARSE_PREDICT_TARGETS_OURS_ONLY = ["DBSCAN.predict"]


# Where a name with no counterpart follows a family whose convention differs
# from the variant's default: DBSCAN.predict and the detector's predictions
# validate as DBSCAN.fit and GaussianMixture's predictions do (scikit-learn's
# dtype='numeric', which rejects strings of numbers).
# A mixture needs 2 samples, select_n_clusters as many as its candidates.
OURS_ONLY_OVERRIDES = {
    **{(target, "numeric_strings"): _STRING
       for target in ["DBSCAN.predict", "DBSCAN[manhattan].predict",
                      "GaussianMixtureAnomalyDetector.predict",
                      "GaussianMixtureAnomalyDetector.decision_function",
                      "GaussianMixtureAnomalyDetector.score_samples",
                      "GaussianMixtureAnomalyDetector.score"]},
    ("GaussianMixtureAnomalyDetector.fit", "one_sample"): Raises(ValueError,
                                                                 "1 sample(s)"),
    ("GaussianMixtureAnomalyDetector.fit_predict", "one_sample"): Raises(
        ValueError, "1 sample(s)"),
    ("select_n_clusters", "one_sample"): Raises(ValueError, "n_samples"),
}


def _fit_call(target):
    return lambda ns, X: target(ns, X)


def _predict_call(fit, method):
    return lambda ns, X: method(fit(ns), X)


def _variant_cases(targets, variants, base, ours_only=False, kind="fit"):
    for target_name, target in targets.items():
        call = _fit_call(target) if kind == "fit" else _predict_call(*target)
        for variant_name, variant in variants.items():
            kwargs = {}
            if variant.expect is ACCEPTS:
                kwargs["clean_inputs"] = _inputs(X=variant.clean(base))
            if ours_only:
                kwargs["expect"] = OURS_ONLY_OVERRIDES.get(
                    (target_name, variant_name), variant.expect)
            case(f"{target_name}-{variant_name}", call, _inputs(X=variant.make(base)),
                 phrase=variant.phrase, **kwargs)


_variant_cases(FIT_TARGETS, DENSE_VARIANTS, X_FIT)
_variant_cases(FIT_TARGETS_OURS_ONLY, DENSE_VARIANTS, X_FIT, ours_only=True)
_variant_cases({name: FIT_TARGETS[name] for name in SPARSE_FIT_TARGETS},
               SPARSE_VARIANTS, X_FIT)
_variant_cases(PREDICT_TARGETS, {**DENSE_VARIANTS, **PREDICT_ONLY_VARIANTS}, X_NEW,
               kind="predict")
_variant_cases(PREDICT_TARGETS_OURS_ONLY, {**DENSE_VARIANTS, **PREDICT_ONLY_VARIANTS},
               X_NEW, ours_only=True, kind="predict")
_variant_cases({name: PREDICT_TARGETS[name] for name in SPARSE_PREDICT_TARGETS},
               SPARSE_VARIANTS, X_NEW, kind="predict")
_variant_cases({name: PREDICT_TARGETS_OURS_ONLY[name]
                for name in SPARSE_PREDICT_TARGETS_OURS_ONLY},
               SPARSE_VARIANTS, X_NEW, ours_only=True, kind="predict")
for _name, _X in OVERFLOW_VARIANTS.items():
    for _target_name, _target in {**FIT_TARGETS, **FIT_TARGETS_OURS_ONLY}.items():
        case(f"{_target_name}-{_name}", _fit_call(_target), _inputs(X=_X),
             expect=SURVIVES)
    for _target_name, _target in {**PREDICT_TARGETS, **PREDICT_TARGETS_OURS_ONLY}.items():
        case(f"{_target_name}-{_name}", _predict_call(*_target), _inputs(X=_X[:4]),
             expect=SURVIVES)

# -- sample_weight --------------------------------------------------------------

_N = X_FIT.shape[0]
# name -> (make() -> sample_weight, key phrase)
WEIGHT_VARIANTS = {
    "none": (lambda: None, None),
    "short": (lambda: np.ones(_N - 1), "sample_weight.shape"),
    "long": (lambda: np.ones(_N + 1), "sample_weight.shape"),
    "empty": (lambda: np.ones(0), "sample_weight.shape"),
    "2d": (lambda: np.ones((_N, 1)), "1D array or scalar"),
    "2d_row": (lambda: np.ones((1, _N)), "1D array or scalar"),
    "one_negative": (lambda: np.r_[-1.0, np.ones(_N - 1)], "negative"),
    "all_negative": (lambda: -np.ones(_N), "negative"),
    "scalar_negative": (lambda: -2.0, "negative"),
    "nan": (lambda: np.r_[np.nan, np.ones(_N - 1)], "NaN"),
    "inf": (lambda: np.r_[np.inf, np.ones(_N - 1)], "infinity"),
    "all_zero": (lambda: np.zeros(_N), "non-zero"),
    "scalar_zero": (lambda: 0.0, "non-zero"),
    "one_zero": (lambda: np.r_[0.0, np.ones(_N - 1)], None),
    "scalar": (lambda: 2.0, None),
    "list": (lambda: [1.0] * _N, None),
    "int": (lambda: np.arange(1, _N + 1), None),
    "bool": (lambda: np.ones(_N, dtype=bool), None),
    "numeric_strings": (lambda: np.array(["1.5"] * _N), None),
    "strings": (lambda: np.array(["a"] * _N), "string"),
    "object_mixed": (lambda: np.array([1.0] * (_N - 1) + ["a"], dtype=object), "string"),
    "complex": (lambda: np.ones(_N) + 1j, "Complex data"),
    "series": (lambda: pd.Series(np.ones(_N)), None),
    "huge": (lambda: np.full(_N, 1e300), None),
    "tiny": (lambda: np.full(_N, 1e-300), None),
    "scalar_string": (lambda: "1", "sample_weight"),
}

# name -> call(ns, X, sample_weight) on X = X_FIT
WEIGHT_TARGETS = {
    "KMeans.fit[lloyd]": lambda ns, X, w: _kmeans(ns).fit(X, sample_weight=w),
    "KMeans.fit[elkan]": lambda ns, X, w: _kmeans(ns, algorithm="elkan").fit(
        X, sample_weight=w),
    "KMeans.fit[random_init]": lambda ns, X, w: _kmeans(ns, init="random").fit(
        X, sample_weight=w),
    "KMeans.fit[sparse]": lambda ns, X, w: _kmeans(ns).fit(sp.csr_matrix(X),
                                                           sample_weight=w),
    "KMeans.fit_predict": lambda ns, X, w: _kmeans(ns).fit_predict(X, sample_weight=w),
    "KMeans.fit_transform": lambda ns, X, w: _kmeans(ns).fit_transform(
        X, sample_weight=w),
    "KMeans.score": lambda ns, X, w: _kmeans(ns).fit(X).score(X, sample_weight=w),
    "MiniBatchKMeans.fit": lambda ns, X, w: _minibatch(ns).fit(X, sample_weight=w),
    "MiniBatchKMeans.partial_fit": lambda ns, X, w: _minibatch(ns).partial_fit(
        X, sample_weight=w),
    "MiniBatchKMeans.score": lambda ns, X, w: _minibatch(ns).fit(X).score(
        X, sample_weight=w),
    "kmeans_plusplus": lambda ns, X, w: ns.kmeans_plusplus(X, 2, sample_weight=w,
                                                           random_state=0),
    "DBSCAN.fit": lambda ns, X, w: _dbscan_est(ns).fit(X, sample_weight=w),
    "DBSCAN.fit[sparse]": lambda ns, X, w: _dbscan_est(ns).fit(sp.csr_matrix(X),
                                                             sample_weight=w),
    "DBSCAN.fit[manhattan]": lambda ns, X, w: _dbscan_est(ns, metric="manhattan").fit(
        X, sample_weight=w),
    "DBSCAN.fit_predict": lambda ns, X, w: _dbscan_est(ns).fit_predict(X, sample_weight=w),
    "dbscan": lambda ns, X, w: ns.dbscan(X, sample_weight=w, **_DBSCAN),
}

for _target_name, _target in WEIGHT_TARGETS.items():
    for _variant_name, (_make, _phrase) in WEIGHT_VARIANTS.items():
        case(f"{_target_name}-weight_{_variant_name}",
             lambda ns, X, sample_weight, target=_target: target(ns, X, sample_weight),
             lambda make=_make: {"X": X_FIT.copy(), "sample_weight": make()},
             phrase=_phrase)
    # Weights whose sum overflows, or subnormal: a result or a ValueError.
    for _variant_name, _weight in [("overflowing", np.full(_N, 1e308)),
                                   ("max", np.full(_N, np.finfo(np.float64).max)),
                                   ("subnormal", np.full(_N, 1e-320))]:
        case(f"{_target_name}-weight_{_variant_name}",
             lambda ns, X, sample_weight, target=_target: target(ns, X, sample_weight),
             _inputs(X=X_FIT, sample_weight=_weight), expect=SURVIVES)

# -- parameters -----------------------------------------------------------------

# name -> call(ns, X, params): the estimator or function with these
# parameters over its defaults here, fitted or called on X.
PARAM_TARGETS = {
    "KMeans": lambda ns, X, params: _kmeans(ns, **params).fit(X),
    "KMeans[sparse]": lambda ns, X, params: _kmeans(ns, **params).fit(sp.csr_matrix(X)),
    "MiniBatchKMeans": lambda ns, X, params: _minibatch(ns, **params).fit(X),
    "MiniBatchKMeans.partial_fit": lambda ns, X, params: _minibatch(
        ns, **params).partial_fit(X),
    "kmeans_plusplus": lambda ns, X, params: ns.kmeans_plusplus(
        X, **{"n_clusters": 2, "random_state": 0, **params}),
    "GaussianMixture": lambda ns, X, params: _mixture(ns, **params).fit(X),
    "BayesianGaussianMixture": lambda ns, X, params: _bayes(ns, **params).fit(X),
    "DBSCAN": lambda ns, X, params: _dbscan_est(ns, **params).fit(X),
    "dbscan": lambda ns, X, params: ns.dbscan(X, **{**_DBSCAN, **params}),
    "AgglomerativeClustering": lambda ns, X, params: _agglo(ns, **params).fit(X),
    "silhouette_samples": lambda ns, X, params: ns.silhouette_samples(
        X, **{"labels": LABELS, **params}),
    "silhouette_score": lambda ns, X, params: ns.silhouette_score(
        X, **{"labels": LABELS, **params}),
    "GaussianMixture.sample": lambda ns, X, params: _mixture(ns).fit(X).sample(**params),
    "BayesianGaussianMixture.sample": lambda ns, X, params: _bayes(ns).fit(X).sample(
        **params),
}

_HUGE = 10 ** 12


def _int_values(minimum, none_ok=False):
    """Bad values for an int parameter of this minimum: below it, a str, a
    float, None; and a huge value only where the data size rejects it."""
    values = [minimum - 1, minimum - 2, "2", 2.5]
    if not none_ok:
        values.append(None)
    return values


def _float_values(none_ok=False):
    values = [-1.0, "0.5", np.nan]
    if not none_ok:
        values.append(None)
    return values


# (target, params, key phrase)
PARAM_CASES = []


def _bad_params(targets, name, values):
    for target in targets:
        for value in values:
            PARAM_CASES.append((target, {name: value}, name))


_KM = ["KMeans", "MiniBatchKMeans"]
_bad_params(_KM + ["KMeans[sparse]", "MiniBatchKMeans.partial_fit"], "n_clusters",
            _int_values(1))
_bad_params(_KM, "n_init", [0, -1, "3", 2.5, None, "Auto"])
_bad_params(_KM, "max_iter", _int_values(1))
_bad_params(_KM, "tol", _float_values())
_bad_params(_KM, "init", ["foo", None, 5, "K-means++"])
_bad_params(_KM, "random_state", ["x", -1, 2 ** 32, 1.5])
_bad_params(_KM, "verbose", [-1, "x", None])
_bad_params(["KMeans"], "algorithm", ["foo", "full", "auto", None, "Lloyd"])
_bad_params(["KMeans"], "copy_x", ["yes", None, 2])
_bad_params(["MiniBatchKMeans", "MiniBatchKMeans.partial_fit"], "batch_size",
            _int_values(1))
_bad_params(["MiniBatchKMeans"], "max_no_improvement", _int_values(0, none_ok=True))
_bad_params(["MiniBatchKMeans"], "init_size", _int_values(1, none_ok=True))
_bad_params(["MiniBatchKMeans"], "reassignment_ratio", _float_values())
_bad_params(["MiniBatchKMeans"], "compute_labels", ["yes", None])
_bad_params(["kmeans_plusplus"], "n_clusters", _int_values(1))
_bad_params(["kmeans_plusplus"], "n_local_trials", _int_values(1, none_ok=True))
_bad_params(["kmeans_plusplus"], "random_state", ["x", -1])

_GM = ["GaussianMixture", "BayesianGaussianMixture"]
_bad_params(_GM, "n_components", _int_values(1))
_bad_params(_GM, "covariance_type", ["foo", None, "Full"])
_bad_params(_GM, "tol", _float_values())
_bad_params(_GM, "reg_covar", _float_values())
_bad_params(_GM, "max_iter", [-1, "10", 2.5, None])
_bad_params(_GM, "n_init", _int_values(1))
_bad_params(_GM, "init_params", ["foo", None])
_bad_params(_GM, "random_state", ["x", -1])
_bad_params(_GM, "warm_start", ["yes", None])
_bad_params(_GM, "verbose", [-1, "x"])
_bad_params(_GM, "verbose_interval", _int_values(1))
_bad_params(["BayesianGaussianMixture"], "weight_concentration_prior_type", ["foo", 1])
_bad_params(["BayesianGaussianMixture"], "weight_concentration_prior",
            [0.0, -1.0, "x"])
_bad_params(["BayesianGaussianMixture"], "mean_precision_prior", [0.0, -1.0, "x"])
_bad_params(["BayesianGaussianMixture"], "degrees_of_freedom_prior", [0.0, -1.0, "x"])
_bad_params(["BayesianGaussianMixture"], "covariance_prior", [0.0, -1.0, "x"])

_bad_params(["DBSCAN", "dbscan"], "eps", [0.0, -1.0, "0.5", None, np.nan])
_bad_params(["DBSCAN", "dbscan"], "min_samples", _int_values(1))
_bad_params(["DBSCAN", "dbscan"], "metric", ["foo", None, 5])
_bad_params(["DBSCAN", "dbscan"], "algorithm", ["foo", None])
_bad_params(["DBSCAN", "dbscan"], "leaf_size", _int_values(1))
_bad_params(["DBSCAN", "dbscan"], "p", [-1.0, "2"])
_bad_params(["DBSCAN", "dbscan"], "n_jobs", ["x", 1.5])
_bad_params(["DBSCAN", "dbscan"], "metric_params", ["x", 5])

_bad_params(["AgglomerativeClustering"], "n_clusters", [0, -1, "2", 2.5])
_bad_params(["AgglomerativeClustering"], "linkage", ["foo", None, "Ward"])
_bad_params(["AgglomerativeClustering"], "metric", ["foo", None, 5])
_bad_params(["AgglomerativeClustering"], "compute_full_tree", ["x", None])
_bad_params(["AgglomerativeClustering"], "compute_distances", ["x", None])
_bad_params(["AgglomerativeClustering"], "connectivity", ["x", 5])
_bad_params(["AgglomerativeClustering"], "memory", [5])

_bad_params(["silhouette_samples", "silhouette_score"], "metric", ["foo", 5, None])
_bad_params(["silhouette_score"], "sample_size", _int_values(1, none_ok=True))
_bad_params(["GaussianMixture.sample", "BayesianGaussianMixture.sample"], "n_samples",
            [0, -1, "3", 2.5, None])

_E2 = np.eye(2)
PARAM_CASES += [
    # Huge or too many clusters: rejected by the data size, before any run.
    ("KMeans", {"n_clusters": _HUGE}, "n_samples"),
    ("KMeans", {"n_clusters": _HUGE, "n_init": _HUGE}, "n_samples"),
    ("KMeans", {"n_clusters": 13}, "n_samples"),
    ("KMeans[sparse]", {"n_clusters": 13}, "n_samples"),
    ("MiniBatchKMeans", {"n_clusters": _HUGE, "n_init": _HUGE}, "n_samples"),
    ("MiniBatchKMeans.partial_fit", {"n_clusters": 13}, "n_samples"),
    ("kmeans_plusplus", {"n_clusters": _HUGE}, "n_samples"),
    ("kmeans_plusplus", {"n_clusters": _HUGE, "n_local_trials": _HUGE}, "n_samples"),
    ("GaussianMixture", {"n_components": _HUGE, "n_init": _HUGE}, "n_components"),
    ("BayesianGaussianMixture", {"n_components": 13}, "n_components"),
    ("AgglomerativeClustering", {"n_clusters": 13}, "n_clusters"),
    ("AgglomerativeClustering", {"n_clusters": _HUGE}, "n_clusters"),
    ("DBSCAN", {"min_samples": _HUGE}, None),  # accepted: all noise
    ("DBSCAN", {"eps": np.inf}, None),  # accepted: one cluster
    ("DBSCAN", {"eps": 1e-300}, None),  # accepted: all noise
    ("DBSCAN", {"eps": 1e300}, None),
    ("dbscan", {"eps": np.inf}, "eps"),
    ("silhouette_score", {"sample_size": _HUGE}, None),  # accepted: all samples
    ("MiniBatchKMeans", {"batch_size": _HUGE}, None),  # accepted: clipped
    ("MiniBatchKMeans", {"init_size": _HUGE}, None),  # accepted: clipped
    ("MiniBatchKMeans", {"init_size": 1}, "init_size"),  # warns
    ("GaussianMixture", {"max_iter": 0}, None),  # warns: not converged
    ("KMeans", {"tol": np.inf}, None),
    ("KMeans", {"n_clusters": np.int64(2)}, None),
    ("KMeans", {"n_clusters": True}, "n_clusters"),
    ("GaussianMixture", {"n_components": np.int32(2)}, None),
    # Explicit initial centers.
    ("KMeans", {"init": X_FIT[:3]}, "initial centers"),
    ("KMeans", {"init": X_FIT[:2, :1]}, "initial centers"),
    ("KMeans", {"init": X_FIT[:2, 0]}, "Expected 2D array"),
    ("KMeans", {"init": _with(X_FIT[:2], np.nan)}, "NaN"),
    ("KMeans", {"init": _with(X_FIT[:2], np.inf)}, "infinity"),
    ("KMeans", {"init": X_FIT[:2] + 1j}, "Complex data"),
    ("KMeans", {"init": [["a", "b"], ["c", "d"]]}, "string"),
    ("KMeans", {"init": X_FIT[[0, 6]].tolist()}, None),
    ("KMeans", {"init": X_FIT[[0, 6]], "n_init": 3}, None),  # warns: one run
    ("KMeans", {"init": lambda X, k, random_state: X[:3]}, "initial centers"),
    ("KMeans", {"init": lambda X, k, random_state: X[[0, 6]]}, None),
    ("KMeans[sparse]", {"init": X_FIT[:3]}, "initial centers"),
    ("MiniBatchKMeans", {"init": X_FIT[:3]}, "initial centers"),
    ("MiniBatchKMeans", {"init": _with(X_FIT[:2], np.nan)}, "NaN"),
    ("kmeans_plusplus", {"x_squared_norms": np.ones(_N - 1)}, "x_squared_norms"),
    ("kmeans_plusplus", {"x_squared_norms": np.ones((_N, 2))}, "x_squared_norms"),
    # Initial mixture parameters.
    ("GaussianMixture", {"weights_init": [0.5, 0.6]}, "weights"),
    ("GaussianMixture", {"weights_init": [1.0]}, "weights"),
    ("GaussianMixture", {"weights_init": [-0.5, 1.5]}, "weights"),
    ("GaussianMixture", {"weights_init": [np.nan, 1.0]}, "NaN"),
    ("GaussianMixture", {"weights_init": [[0.5, 0.5]]}, "weights"),
    ("GaussianMixture", {"weights_init": "x"}, "weights_init"),
    ("GaussianMixture", {"means_init": X_FIT[:3]}, "means"),
    ("GaussianMixture", {"means_init": X_FIT[:2, :1]}, "means"),
    ("GaussianMixture", {"means_init": _with(X_FIT[:2], np.nan)}, "NaN"),
    ("GaussianMixture", {"precisions_init": np.stack([_E2, -_E2])}, "precision"),
    ("GaussianMixture", {"precisions_init": np.stack([_E2, _E2, _E2])}, "precision"),
    ("GaussianMixture", {"precisions_init": np.stack([_E2, [[1.0, 2.0], [0.0, 1.0]]])},
     "symmetric"),
    ("GaussianMixture", {"precisions_init": [1.0, -1.0], "covariance_type": "spherical"},
     "precision"),
    ("GaussianMixture", {"precisions_init": _E2, "covariance_type": "diag"}, None),
    ("GaussianMixture", {"precisions_init": np.stack([_E2, 2 * _E2]),
                         "weights_init": [0.5, 0.5], "means_init": X_FIT[[0, 6]]}, None),
    ("BayesianGaussianMixture", {"mean_prior": [0.0, 0.0, 0.0]}, "means"),
    ("BayesianGaussianMixture", {"mean_prior": [np.nan, 0.0]}, "NaN"),
    ("BayesianGaussianMixture", {"degrees_of_freedom_prior": 0.5},
     "degrees_of_freedom_prior"),
    ("BayesianGaussianMixture", {"covariance_prior": np.eye(3)}, "covariance_prior"),
    ("BayesianGaussianMixture", {"covariance_prior": [[1.0, 2.0], [2.0, 1.0]]},
     "covariance_prior"),
    ("BayesianGaussianMixture", {"covariance_prior": [-1.0, 1.0],
                                 "covariance_type": "diag"}, "covariance_prior"),
    # DBSCAN and AgglomerativeClustering: parameters that go together.
    ("DBSCAN", {"metric": "precomputed"}, "square"),
    ("DBSCAN", {"metric": "minkowski", "p": 0.5}, "p"),
    ("DBSCAN", {"metric": lambda a, b: float(np.abs(a - b).sum())}, None),
    ("DBSCAN", {"metric": "cosine"}, None),
    ("DBSCAN", {"metric_params": {"p": 1}, "metric": "minkowski"}, None),
    ("DBSCAN", {"metric_params": {"w": [1.0]}, "metric": "minkowski"}, "w"),
    ("AgglomerativeClustering", {"n_clusters": None}, "distance_threshold"),
    ("AgglomerativeClustering", {"n_clusters": None, "distance_threshold": -1.0},
     "distance_threshold"),
    ("AgglomerativeClustering", {"n_clusters": None, "distance_threshold": "1"},
     "distance_threshold"),
    ("AgglomerativeClustering", {"distance_threshold": 1.0}, "distance_threshold"),
    ("AgglomerativeClustering", {"n_clusters": None, "distance_threshold": 1.0,
                                 "compute_full_tree": False}, "compute_full_tree"),
    ("AgglomerativeClustering", {"n_clusters": None, "distance_threshold": np.inf},
     None),
    ("AgglomerativeClustering", {"metric": "manhattan"}, "euclidean"),
    ("AgglomerativeClustering", {"metric": "precomputed"}, "euclidean"),
    ("AgglomerativeClustering", {"metric": "precomputed", "linkage": "average"},
     "square"),
    ("AgglomerativeClustering", {"connectivity": np.eye(3)}, "connectivity"),
    ("AgglomerativeClustering", {"connectivity": np.eye(_N)}, None),  # warns
    ("AgglomerativeClustering", {"connectivity": lambda X: np.eye(3)}, "connectivity"),
    ("AgglomerativeClustering", {"linkage": "single", "metric": "cosine"}, None),
    # Labels of the silhouette.
    ("silhouette_samples", {"labels": np.zeros(_N)}, "Number of labels"),
    ("silhouette_samples", {"labels": np.arange(_N)}, "Number of labels"),
    ("silhouette_samples", {"labels": LABELS[:-1]}, "inconsistent numbers of samples"),
    ("silhouette_samples", {"labels": LABELS[:, None]}, None),  # warns
    ("silhouette_samples", {"labels": np.c_[LABELS, LABELS]}, "1d"),
    ("silhouette_samples", {"labels": _with(LABELS[:, None], np.nan, (0, 0))[:, 0]},
     "NaN"),
    ("silhouette_samples", {"labels": None}, "labels"),
    ("silhouette_samples", {"labels": np.where(LABELS, "b", "a")}, None),
    ("silhouette_samples", {"labels": LABELS.tolist()}, None),
    ("silhouette_score", {"labels": np.zeros(_N)}, "Number of labels"),
    ("silhouette_score", {"labels": LABELS[:-1]}, "inconsistent numbers of samples"),
    ("silhouette_score", {"labels": np.zeros(_N), "sample_size": 5}, "Number of labels"),
    ("silhouette_score", {"sample_size": 5, "random_state": "x"}, "random_state"),
    ("silhouette_score", {"metric": "precomputed"}, "square"),
]

for _target, _params, _phrase in PARAM_CASES:
    _call = PARAM_TARGETS[_target]
    _label = ",".join(f"{key}={value!r}" if np.ndim(value) == 0 and not callable(value)
                      else f"{key}=<{type(value).__name__}{np.shape(value)}>"
                      if not callable(value) else f"{key}=<callable>"
                      for key, value in _params.items())
    case(f"{_target}-{_label}", lambda ns, X, params, call=_call: call(ns, X, params),
         _inputs(X=X_FIT, params=_params), phrase=_phrase)


def _square(X):
    return np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1))


# Precomputed distances: the matrix is X.
for _name, _call in [
    ("DBSCAN", lambda ns, X: _dbscan_est(ns, metric="precomputed").fit(X)),
    ("dbscan", lambda ns, X: ns.dbscan(X, metric="precomputed", **_DBSCAN)),
    ("AgglomerativeClustering", lambda ns, X: _agglo(
        ns, metric="precomputed", linkage="average").fit(X)),
    ("silhouette_samples", lambda ns, X: ns.silhouette_samples(
        X, LABELS, metric="precomputed")),
    ("silhouette_score", lambda ns, X: ns.silhouette_score(
        X, LABELS, metric="precomputed")),
]:
    case(f"{_name}[precomputed]-ok", _call, _inputs(X=_square(X_FIT)))
    case(f"{_name}[precomputed]-negative", _call, _inputs(X=-_square(X_FIT)),
         phrase="negative")
    case(f"{_name}[precomputed]-nan", _call, _inputs(X=_with(_square(X_FIT), np.nan)),
         phrase="NaN")
    case(f"{_name}[precomputed]-not_square", _call, _inputs(X=_square(X_FIT)[:, :-1]),
         phrase="square")
    case(f"{_name}[precomputed]-sparse", _call,
         _inputs(X=sp.csr_matrix(_square(X_FIT))))
case("silhouette_samples[precomputed]-nonzero_diagonal",
     lambda ns, X: ns.silhouette_samples(X, LABELS, metric="precomputed"),
     _inputs(X=_square(X_FIT) + 1.0), phrase="diagonal")

# -- before fit -------------------------------------------------------------------

_NOT_FITTED = Raises(NotFittedError, "not fitted")
for _name, _make, _methods in [
    ("KMeans", _kmeans, ["predict", "transform", "score"]),
    ("MiniBatchKMeans", _minibatch, ["predict", "transform", "score"]),
    ("GaussianMixture", _mixture, ["predict", "predict_proba", "score", "score_samples",
                                   "bic", "aic", "sample"]),
    ("BayesianGaussianMixture", _bayes, ["predict", "predict_proba", "score",
                                         "score_samples", "sample"]),
]:
    for _method in _methods:
        _args = () if _method == "sample" else (X_NEW,)
        case(f"{_name}.{_method}-not_fitted",
             lambda ns, make=_make, method=_method, args=_args: getattr(
                 make(ns), method)(*args),
             phrase=_NOT_FITTED.phrase)
for _method in ["predict", "decision_function", "score_samples", "score", "sample"]:
    _args = () if _method == "sample" else (X_NEW,)
    case(f"GaussianMixtureAnomalyDetector.{_method}-not_fitted",
         lambda ns, method=_method, args=_args: getattr(_detector(ns), method)(*args),
         expect=_NOT_FITTED)
case("DBSCAN.predict-not_fitted", lambda ns: _dbscan_est(ns).predict(X_NEW),
     expect=_NOT_FITTED)

# -- names with no counterpart: their parameters -----------------------------------

for _params, _expect in [
    ({"contamination": 0.6}, Raises(InvalidParameterError, "contamination")),
    ({"contamination": -0.1}, Raises(InvalidParameterError, "contamination")),
    ({"contamination": 0.0}, Raises(InvalidParameterError, "contamination")),
    ({"contamination": "x"}, Raises(InvalidParameterError, "contamination")),
    ({"contamination": None}, Raises(InvalidParameterError, "contamination")),
    ({"contamination": np.nan}, Raises(InvalidParameterError, "contamination")),
    ({"n_components": 0}, Raises(InvalidParameterError, "n_components")),
    ({"n_components": "2"}, Raises(InvalidParameterError, "n_components")),
    ({"n_components": 13}, Raises(ValueError, "n_components")),
    ({"n_components": _HUGE, "n_init": _HUGE}, Raises(ValueError, "n_components")),
    ({"covariance_type": "foo"}, Raises(InvalidParameterError, "covariance_type")),
    ({"tol": -1.0}, Raises(InvalidParameterError, "tol")),
    ({"init_params": "foo"}, Raises(InvalidParameterError, "init_params")),
    ({"weights_init": [0.5, 0.6]}, Raises(ValueError, "weights")),
    ({"means_init": X_FIT[:3]}, Raises(ValueError, "means")),
]:
    _label = ",".join(f"{key}={value!r}" if np.ndim(value) == 0 else f"{key}=<array>"
                      for key, value in _params.items())
    case(f"GaussianMixtureAnomalyDetector-{_label}",
         lambda ns, X, params: _detector(ns, **params).fit(X),
         _inputs(X=X_FIT, params=_params), expect=_expect)
case("GaussianMixtureAnomalyDetector-contamination=0.5",
     lambda ns, X, params: _detector(ns, **params).fit(X),
     _inputs(X=X_FIT, params={"contamination": 0.5}), expect=ACCEPTS,
     clean_inputs=_inputs(X=X_FIT, params={"contamination": 0.5}))


def _select(ns, X, params):
    return tc.select_n_clusters(X, **params)


for _params, _expect in [
    ({"n_clusters": [1, 2]}, Raises(ValueError, "n_clusters")),
    ({"n_clusters": []}, Raises(ValueError, "n_clusters")),
    ({"n_clusters": [0]}, Raises(ValueError, "n_clusters")),
    ({"n_clusters": 5}, Raises(InvalidParameterError, "n_clusters")),
    ({"n_clusters": None}, Raises(InvalidParameterError, "n_clusters")),
    ({"n_clusters": ["a"]}, Raises(InvalidParameterError, "n_clusters")),
    ({"n_clusters": [2.5]}, Raises(InvalidParameterError, "n_clusters")),
    ({"n_clusters": [2, "3"]}, Raises(InvalidParameterError, "n_clusters")),
    ({"n_clusters": [13]}, Raises(ValueError, "n_samples")),
    ({"n_clusters": [_HUGE]}, Raises(ValueError, "n_samples")),
    ({"n_clusters": [2, 3], "criteria": ["foo"]}, Raises(ValueError, "criteria")),
    ({"n_clusters": [2, 3], "criteria": ["silhouette"]}, Raises(ValueError, "criteria")),
    ({"n_clusters": [2, 3], "criteria": ["inertia", "bic"]}, Raises(ValueError, "bic")),
    ({"n_clusters": [2, 3], "criteria": 5}, Raises(InvalidParameterError, "criteria")),
    ({"n_clusters": [2, 3], "estimator": "x"}, Raises(InvalidParameterError,
                                                      "estimator")),
    ({"n_clusters": [2, 3], "estimator": tc.DBSCAN()}, Raises(ValueError, "n_clusters")),
    ({"n_clusters": [2, 3], "estimator": tc.KMeans(n_init=0)},
     Raises(InvalidParameterError, "n_init")),
    ({"n_clusters": [2, 3], "silhouette_sample_size": 0},
     Raises(InvalidParameterError, "sample_size")),
    ({"n_clusters": [2, 3], "silhouette_sample_size": 5, "random_state": "x"},
     Raises(InvalidParameterError, "random_state")),
]:
    _label = ",".join(f"{key}={value!r}" for key, value in _params.items())
    case(f"select_n_clusters-{_label}", _select, _inputs(X=X_FIT, params=_params),
         expect=_expect)
for _params in [{"n_clusters": range(2, 4)}, {"n_clusters": np.array([2, 3])},
                {"n_clusters": (np.int64(2), 3)},
                {"n_clusters": [2, 3], "estimator": tc.GaussianMixture(random_state=0)}]:
    _label = ",".join(f"{key}={value!r}" for key, value in _params.items())
    case(f"select_n_clusters-{_label}", _select, _inputs(X=X_FIT, params=_params),
         expect=ACCEPTS,
         clean_inputs=_inputs(X=X_FIT, params={**_params, "n_clusters": [2, 3]}))


def _knee(ns, x, y):
    return tc.knee_point(x, y)


_KNEE_X, _KNEE_Y = [1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 4.0, 2.0, 1.5, 1.0]
for _label, _x, _y, _expect in [
    ("ok", _KNEE_X, _KNEE_Y, ACCEPTS),
    ("arrays", np.array(_KNEE_X), np.array(_KNEE_Y), ACCEPTS),
    ("ints", [1, 2, 3, 4, 5], [10, 4, 2, 1, 1], ACCEPTS),
    ("two_points", _KNEE_X[:2], _KNEE_Y[:2], ACCEPTS),
    ("empty", [], [], ACCEPTS),
    ("x_nan", [1.0, np.nan, 3.0, 4.0, 5.0], _KNEE_Y, _NAN),
    ("y_nan", _KNEE_X, [10.0, np.nan, 2.0, 1.5, 1.0], _NAN),
    ("x_inf", [1.0, np.inf, 3.0, 4.0, 5.0], _KNEE_Y, _INF),
    ("y_neginf", _KNEE_X, [10.0, 4.0, -np.inf, 1.5, 1.0], _INF),
    ("lengths", _KNEE_X, _KNEE_Y[:4], Raises(ValueError, "inconsistent")),
    ("x_2d", np.c_[_KNEE_X, _KNEE_X], _KNEE_Y, Raises(ValueError, "1-D")),
    ("y_scalar", _KNEE_X, 3.0, Raises(ValueError, "1-D")),
    ("x_none", None, _KNEE_Y, Raises(ValueError, "1-D")),
    ("strings", ["a", "b", "c", "d", "e"], _KNEE_Y, _STRING),
    ("object_mixed", np.array([1.0, 2.0, "a", 4.0, 5.0], dtype=object), _KNEE_Y, _STRING),
    ("complex", np.array(_KNEE_X) + 1j, _KNEE_Y, Raises(ValueError, "Complex data")),
]:
    case(f"knee_point-{_label}", _knee, _inputs(x=_x, y=_y), expect=_expect,
         clean_inputs=(_inputs(x=np.asarray(_x, dtype=float), y=np.asarray(_y, dtype=float))
                       if _expect is ACCEPTS else None))


def _tree(distances=True, **params):
    params = {**_AGGLO, **params}
    if distances and params.get("distance_threshold") is None:
        params["compute_distances"] = True
    return tc.AgglomerativeClustering(**params)


def _fitted_tree(**params):
    return _tree(**params).fit(X_FIT)


def _partial_tree():
    # A graph and compute_full_tree=False: the tree stops at n_clusters.
    return _tree(compute_full_tree=False, connectivity=np.ones((_N, _N)),
                 n_clusters=3).fit(X_FIT)


for _name, _fn in [("linkage_matrix", tc.linkage_matrix),
                   ("plot_dendrogram", tc.plot_dendrogram)]:
    _call = (lambda ns, model, kwargs, fn=_fn: fn(model, **kwargs))
    for _label, _model, _kwargs, _expect, _clean in [
        ("fitted", lambda: _fitted_tree(), {}, ACCEPTS, lambda: _fitted_tree()),
        ("threshold", lambda: _fitted_tree(n_clusters=None, distance_threshold=1.0), {},
         ACCEPTS, lambda: _fitted_tree(n_clusters=None, distance_threshold=1.0)),
        ("sklearn_model", lambda: sklearn.cluster.AgglomerativeClustering(
            compute_distances=True).fit(X_FIT), {}, ACCEPTS, lambda: _fitted_tree()),
        ("not_fitted", lambda: _tree(), {}, _NOT_FITTED, None),
        ("no_distances", lambda: _tree(distances=False).fit(X_FIT), {},
         Raises(ValueError, "compute_distances"), None),
        ("partial_tree", _partial_tree, {}, Raises(ValueError, "compute_full_tree"),
         None),
        ("kmeans", lambda: tc.KMeans(2, n_init=1).fit(X_FIT), {},
         Raises(TypeError, "AgglomerativeClustering"), None),
        ("kmeans_not_fitted", lambda: tc.KMeans(2), {},
         Raises(TypeError, "AgglomerativeClustering"), None),
        ("string", lambda: "model", {}, Raises(TypeError, "AgglomerativeClustering"),
         None),
        ("none", lambda: None, {}, Raises(TypeError, "AgglomerativeClustering"), None),
        ("array", lambda: X_FIT.copy(), {}, Raises(TypeError, "AgglomerativeClustering"),
         None),
    ] + ([
        ("ax_string", lambda: _fitted_tree(), {"ax": "x"}, Raises(TypeError, "ax"), None),
        ("ax_axes", lambda: _fitted_tree(), {"ax": None, "truncate_mode": "level",
                                              "p": 1}, ACCEPTS,
         lambda: _fitted_tree()),
        ("unknown_keyword", lambda: _fitted_tree(), {"foo": 1}, Raises(TypeError, "foo"),
         None),
    ] if _name == "plot_dendrogram" else []):
        if _name == "plot_dendrogram" and not _HAS_MATPLOTLIB:
            # Without the optional dependency: an ImportError naming it.
            _expect, _clean = Raises(ImportError, "matplotlib"), None
        case(f"{_name}-{_label}", _call,
             lambda model=_model, kwargs=_kwargs: {"model": model(), "kwargs": kwargs},
             expect=_expect,
             clean_inputs=None if _clean is None else (
                 lambda clean=_clean, kwargs=_kwargs: {"model": clean(),
                                                       "kwargs": kwargs}))

# DBSCAN.predict after a precomputed fit: the columns are the fitted samples.
for _label, _X, _expect in [
    ("ok", _square(X_FIT)[:4], ACCEPTS),
    ("wrong_n_columns", _square(X_FIT)[:4, :-1], Raises(ValueError, "features")),
    ("nan", _with(_square(X_FIT)[:4], np.nan), _NAN),
    ("negative", -_square(X_FIT)[:4], Raises(ValueError, "negative")),
]:
    case(f"DBSCAN[precomputed].predict-{_label}",
         lambda ns, X: _dbscan_est(ns, metric="precomputed").fit(_square(X_FIT)).predict(X),
         _inputs(X=_X), expect=_expect, clean_inputs=_inputs(X=_X))

###############################################################################
# Where we differ from scikit-learn on purpose: case id -> (our outcome, why).
# The test also checks that scikit-learn still behaves otherwise, so that an
# entry goes when scikit-learn changes. ACCEPTS: ours gives the result of the
# clean numeric equivalent of the input.

DEVIATIONS = {}


def deviate(ids, expect, why):
    for id in ids:
        DEVIATIONS[id] = (expect, why)


deviate([f"{target}-weight_{variant}"
         for target in ["KMeans.fit[lloyd]", "KMeans.fit[elkan]", "KMeans.fit[random_init]",
                        "KMeans.fit[sparse]", "KMeans.fit_predict", "KMeans.fit_transform",
                        "MiniBatchKMeans.fit", "MiniBatchKMeans.partial_fit"]
         for variant in ["all_negative", "scalar_negative"]]
        + ["kmeans_plusplus-weight_all_negative"],
        Raises(ValueError, "negative"),
        "scikit-learn's k-means accepts weights that are all negative, by an accident "
        "of its sampling probabilities w / sum(w); one negative weight among positive "
        "ones raises there. A weighted mean has no meaning for negative weights: ours "
        "rejects any in fit (score takes them, as scikit-learn's does).")
deviate(["kmeans_plusplus-numeric_strings", "kmeans_plusplus-list", "kmeans_plusplus-tuples",
         "kmeans_plusplus-frame", "kmeans_plusplus-sparse_bool",
         "kmeans_plusplus-sparse_int", "kmeans_plusplus-sparse_coo"], ACCEPTS,
        "scikit-learn's kmeans_plusplus fails on these inputs inside its own code "
        "(einsum on strings, .dtype of a list, tuple or DataFrame, float sums into "
        "an int sparse matrix, indexing a COO matrix): a bug, not a validation. Its "
        "docstring accepts array-like and sparse input.")
deviate(["DBSCAN.fit[manhattan]-sparse_int64_indices"], ACCEPTS,
        "scikit-learn's neighbour search over sparse input with int64 indices fails "
        "in a Cython buffer ('expected const int but got long'): a bug.")
deviate([f"{target}-float32_fortran" for target in [
    "KMeans.predict", "KMeans.score", "KMeans[sparse].predict",
    "MiniBatchKMeans.predict", "MiniBatchKMeans.score"]], ACCEPTS,
        "scikit-learn's KMeans fitted on float64 fails to predict float32 X that is not "
        "C-ordered (a Cython buffer dtype mismatch): a bug.")
deviate(["GaussianMixture.predict_proba-bool", "GaussianMixture.score-bool",
         "GaussianMixture.score_samples-bool", "GaussianMixture.score_samples-int",
         "GaussianMixture.score_samples-float16", "GaussianMixture.bic-bool",
         "GaussianMixture.aic-bool",
         "BayesianGaussianMixture.predict_proba-bool",
         "BayesianGaussianMixture.predict_proba-int",
         "BayesianGaussianMixture.predict_proba-float16",
         "BayesianGaussianMixture.score-bool", "BayesianGaussianMixture.score-int",
         "BayesianGaussianMixture.score_samples-bool",
         "BayesianGaussianMixture.score_samples-int"], ACCEPTS,
        "scikit-learn's mixtures compute their predictions in the dtype of X when it is "
        "bool, int or float16 (dtype='numeric'), which gives wrong log-densities (bool: "
        "the same value for every sample; int: off by 0.3); ours computes in float64 "
        "and returns the values of the float64 input.")
deviate([f"{target}-frame_category" for target in PREDICT_TARGETS
         if target.split(".")[0] in ("GaussianMixture", "BayesianGaussianMixture")],
        _STRING,
        "scikit-learn's mixtures predict on a DataFrame with a categorical text column "
        "by multiplying its strings (TypeError \"can't multiply sequence\"): an "
        "accident. Ours gives the ValueError that their fit gives for the same frame.")
deviate(["KMeans.fit_transform-sparse_duplicates", "KMeans.transform-sparse_duplicates",
         "KMeans.score-sparse_duplicates"], ACCEPTS,
        "scikit-learn's KMeans computes wrong distances for a CSR matrix with "
        "duplicate entries (which mean their sum); ours gives those of the canonical "
        "matrix.")
deviate(["BayesianGaussianMixture-covariance_prior=<list(2, 2)>",
         "BayesianGaussianMixture-covariance_prior=<list(2,)>,covariance_type='diag'"],
        Raises(ValueError, "covariance_prior"),
        "scikit-learn's message names 'full precision' / 'diag precision' for a bad "
        "covariance_prior; ours names the parameter.")
deviate(["kmeans_plusplus-x_squared_norms=<ndarray(12, 2)>"],
        Raises(ValueError, "x_squared_norms"),
        "scikit-learn raises NumPy's broadcast error for 2-D x_squared_norms; ours "
        "names the parameter.")

###############################################################################
# The test


def _run(call, inputs):
    """(result, exception, warning categories) of call(**inputs)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(**inputs)
        except Exception as exc:  # noqa: BLE001 -- the outcome under test
            return None, exc, caught
    return result, None, caught


def _assert_unchanged(before, after, where="inputs"):
    """The caller's inputs after a call are those it passed in."""
    assert type(before) is type(after), where
    if isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and before.shape == after.shape, where
        assert before.flags.c_contiguous == after.flags.c_contiguous, where
        if before.dtype.kind == "O":
            assert all(a is b or a == b for a, b in zip(before.ravel(), after.ravel())), \
                where
        else:
            np.testing.assert_array_equal(after, before, err_msg=where)
    elif sp.issparse(before):
        assert before.format == after.format and before.shape == after.shape, where
        _assert_unchanged(before.toarray(), after.toarray(), where)
    elif isinstance(before, (pd.DataFrame, pd.Series)):
        assert before.equals(after), where
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), where
        for key in before:
            _assert_unchanged(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), where
        for i, (b, a) in enumerate(zip(before, after)):
            _assert_unchanged(b, a, f"{where}[{i}]")
    elif isinstance(before, float) and np.isnan(before):
        assert np.isnan(after), where
    elif hasattr(before, "get_params"):  # an estimator given as input
        assert repr(before.get_params()) == repr(after.get_params()), where
    else:
        assert before == after or before is after, where


def _same_partition(a, b):
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        return False
    pairs = set(zip(a.tolist(), b.tolist()))
    return (len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))
            and np.array_equal(a == -1, b == -1))


# Tolerance of float results: EM and k-means stop at their tolerance (1e-3
# on the lower bound, 1e-4 on the centers' moves), so fitted parameters agree
# to about that; predictions from them agree closer.
_RTOL = 1e-3
_ATOL = 1e-6


def _same_numbers(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    if a.ndim == 2:  # one column per cluster or component, in either order
        a, b = np.sort(a, axis=1), np.sort(b, axis=1)
    return np.allclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=True)


def _same_result(ours, ref, names=True):
    """Whether two accepted results agree, whatever the order of clusters.
    names: whether the fitted feature names must agree too."""
    if isinstance(ref, tuple):
        if len(ours) != len(ref):
            return False
        if len(ref) == 2 and np.ndim(ref[1]) == 1 and np.ndim(ref[0]) == 2:
            # kmeans_plusplus (centers, indices) or GaussianMixture.sample
            # (X, y): the same shapes (sampling draws need not agree).
            return ours[0].shape == ref[0].shape and ours[1].shape == ref[1].shape
        # dbscan: (core sample indices, labels)
        return (np.array_equal(np.sort(ours[0]), np.sort(ref[0]))
                and _same_partition(ours[1], ref[1]))
    if hasattr(ref, "get_params"):  # a fitted estimator
        if getattr(ours, "n_features_in_", None) != getattr(ref, "n_features_in_", None):
            return False
        if names and (hasattr(ref, "feature_names_in_")
                      != hasattr(ours, "feature_names_in_")):
            return False
        if hasattr(ref, "labels_"):
            return _same_partition(ours.labels_, ref.labels_)
        if hasattr(ref, "means_"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # feature names: checked above
                X = np.zeros((1, ref.n_features_in_)) + X_FIT[:, :1]
                return _same_partition(ours.predict(X), ref.predict(X))
        raise AssertionError(f"no comparison for {type(ref).__name__}")
    if isinstance(ref, tc.ClusterCountSelection):
        return (np.array_equal(ours.n_clusters, ref.n_clusters)
                and ours.recommended == ref.recommended
                and _same_numbers(ours.inertia, ref.inertia))
    if hasattr(ref, "dendrogram_"):  # matplotlib Axes
        return ours.dendrogram_["ivl"] == ref.dendrogram_["ivl"]
    if ref is None or isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        return ours == ref
    ref_array = np.asarray(ref)
    if ref_array.dtype.kind in "iu":
        return _same_partition(ours, ref)
    return _same_numbers(ours, ref)


def _assert_error(ours, ours_inputs_note, ref_type, ref_message, phrase, ref_name):
    assert ours is not None, (
        f"{ref_name} raises {ref_type.__name__}({ref_message!r}); ours returned "
        f"{ours_inputs_note}")
    assert isinstance(ours, ref_type), (
        f"{ref_name} raises {ref_type.__name__}({ref_message!r}); ours raised "
        f"{type(ours).__name__}({ours})")
    our_message = str(ours)
    if ref_message is not None and our_message == ref_message:
        return
    assert phrase is not None, (
        f"messages differ and the case names no key phrase: ours {our_message!r}, "
        f"{ref_name} {ref_message!r}")
    if ref_message is not None:
        assert phrase.lower() in ref_message.lower(), (
            f"the table's key phrase {phrase!r} is not in {ref_name}'s message "
            f"{ref_message!r}")
    assert phrase.lower() in our_message.lower(), (
        f"our message {our_message!r} does not name {phrase!r} ({ref_name}: "
        f"{ref_message!r})")


def _categories(caught):
    return {w.category for w in caught}


def _number_ids():
    """Unique ids (a repeated one gets #2, #3...), and the deviations applied."""
    seen = {}
    for c in CASES:
        seen[c.id] = seen.get(c.id, 0) + 1
        if seen[c.id] > 1:
            c.id = f"{c.id}#{seen[c.id]}"
    for c in CASES:
        if c.id in DEVIATIONS:
            c.expect, c.deviation = DEVIATIONS[c.id]
            assert c.expect is not ACCEPTS or c.clean_inputs is not None, c.id


_number_ids()


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # The data have 12 rows: every kernel's chunk plan is one chunk, so more
    # OpenMP threads run the same code with idle threads, which on a loaded
    # machine costs 100 times the work in team start-ups (thread counts are
    # the determinism tests' business).
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def _watchdog():
    # A case that hangs (in a kernel too, where no Python signal handler
    # runs) dumps the stacks and ends the process: the module fails.
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_hostile_input(c):
    inputs = c.inputs()
    snapshot = copy.deepcopy(inputs)
    result, error, caught = _run(lambda **kw: c.call(OURS, **kw), inputs)
    _assert_unchanged(snapshot, inputs)
    described = f"{type(result).__name__}" if error is None else ""

    if c.expect is None:
        ref_result, ref_error, ref_caught = _run(
            lambda **kw: c.call(SKLEARN, **kw), c.inputs())
        if ref_error is not None:
            _assert_error(error, described, type(ref_error), str(ref_error), c.phrase,
                          "scikit-learn")
            return
        assert error is None, (
            f"scikit-learn accepts; ours raised {type(error).__name__}: {error}")
        assert _same_result(result, ref_result), (
            f"results differ:\nours {result!r}\nscikit-learn {ref_result!r}")
        missing = {category for category in _categories(ref_caught)
                   if not any(issubclass(ours, category) for ours in _categories(caught))}
        assert not missing, (
            f"scikit-learn warns {sorted(m.__name__ for m in missing)} "
            f"({[str(w.message) for w in ref_caught]}); ours: "
            f"{[str(w.message) for w in caught]}")
        return

    if c.expect is SURVIVES:
        assert error is None or isinstance(error, ValueError), repr(error)
    elif isinstance(c.expect, Raises):
        _assert_error(error, described, c.expect.type, None, c.expect.phrase,
                      "the table")
    else:
        assert error is None, f"expected a result; ours raised {error!r}"
        clean_result, clean_error, _ = _run(lambda **kw: c.call(OURS, **kw),
                                            c.clean_inputs())
        assert clean_error is None, clean_error
        assert _same_result(result, clean_result, names=False), (
            f"results differ from those of the clean input:\n{result!r}\n{clean_result!r}")
    if c.deviation is not None:
        # scikit-learn still behaves otherwise (else the entry goes).
        ref_result, ref_error, _ = _run(lambda **kw: c.call(SKLEARN, **kw), c.inputs())
        if isinstance(c.expect, Raises):
            assert ref_error is None or not (
                isinstance(ref_error, c.expect.type)
                and c.expect.phrase.lower() in str(ref_error).lower()), (
                f"scikit-learn now agrees ({ref_error!r}); drop the deviation")
        else:
            assert ref_error is not None or not _same_result(result, ref_result), (
                "scikit-learn now agrees; drop the deviation")


def test_the_table_covers_every_public_name():
    # Every public estimator and function has cases here.
    covered = {c.id.split("-")[0].split(".")[0].split("[")[0] for c in CASES}
    public = set(tc.__all__) - {"__version__", "ClusterCountSelection"}
    assert public <= covered, public - covered
    # Every deviation names a case of the table.
    assert set(DEVIATIONS) <= {c.id for c in CASES}, set(DEVIATIONS) - {
        c.id for c in CASES}

"""Property tests (hypothesis) of the k-means family: KMeans (lloyd, elkan;
dense and CSR), MiniBatchKMeans (fit, partial_fit) and kmeans_plusplus.

Over generated data (``property_strategies.py``: 1 to 3000 samples, 1 to 64
features, duplicates, constant columns, identical rows, values scaled towards
the float limits, float32 and float64, C and F order, strided views, read-only
arrays, n_clusters from 1 to n_samples), each test checks invariants that hold
for any input: labels in range and of scikit-learn's dtype, fitted arrays in
X's dtype, the inertia equal to the distances recomputed in float64, every
label a nearest center, no empty cluster where scikit-learn promises none,
the same bits with 1 and 2 OpenMP threads, and the caller's array unchanged.

The default profile ("ci", tests/conftest.py) runs a few derandomized examples
per test. For a long search::

    HYPOTHESIS_PROFILE=thorough python -m pytest -q tests/test_properties_*.py \
        --hypothesis-show-statistics

Where the math allows (the largest magnitude of the values is 10**exponent):
the k-means objective is a sum of squared distances computed in X's dtype,
so the values may go up to where their squares, summed over 64 features,
weighted by up to 1000 and summed over thousands of samples, still fit the
dtype: 1e145 in float64, 1e14 in float32 (squares of 1e28: the sums stay
below 1e37). Downwards nothing breaks: squares below the smallest subnormal
round to zero and samples become equidistant, still a valid k-means solution
up to rounding, so the scale goes down to 1e-300 in float64 and 1e-40 in
float32 (subnormal values). Only the promise of no empty cluster needs
distinct samples whose distances the dtype resolves; it is checked where it
does.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning

from property_strategies import (
    assert_few_warnings,
    assert_same_bits,
    cluster_counts,
    data,
    in_threads,
    recorded,
    same_error_as_reference,
    sq_distances,
)
from turbocluster import KMeans, MiniBatchKMeans, kmeans_plusplus

KMEANS_EXPONENTS = {"float64": (-300, 145), "float32": (-40, 14)}


###############################################################################
# Rounding allowances and checks, on X's values in float64 (``dense``) and
# X's dtype


def _allowance(dense, dtype, centers, mean):
    """Per-sample bound on the rounding error of a squared distance from a
    sample to any center, as the kernels compute it, against its float64
    value from differences.

    The kernels expand ||x'||^2 - 2 <x', c'> + ||c'||^2 on samples x' = x -
    mean (dense fit centers the data; predict and CSR use mean = 0), error
    about (n_features + 2) eps (||x'||^2 + ||c'||^2); centering x and moving
    c back to X's origin rounds each coordinate by eps times its magnitude,
    which moves the distance by up to 2 ||x - c|| (||x|| + ||c||) eps. The
    factors 4 leave a margin; squares of values below sqrt(tiny) underflow,
    hence the absolute term.
    """
    eps = float(np.finfo(dtype).eps)
    tiny = float(np.finfo(dtype).tiny)
    n_features = dense.shape[1]
    C = np.asarray(centers, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        Xc, Cc = dense - mean, C - mean
        expansion = (Xc ** 2).sum(axis=1) + (Cc ** 2).sum(axis=1).max()
        norms = np.sqrt((dense ** 2).sum(axis=1)) + np.sqrt((C ** 2).sum(axis=1)).max()
        far = np.sqrt(sq_distances(dense, C).max(axis=1))
        return (4 * (n_features + 2) * eps * expansion + 4 * eps * far * norms
                + 10 * (n_features + 2) * tiny)


def _assert_nearest(dense, centers, labels, allowance):
    """Each label is a nearest center, up to twice the allowance."""
    dist = sq_distances(dense, centers)
    chosen = dist[np.arange(dense.shape[0]), labels]
    assert np.all(chosen <= dist.min(axis=1) + 2 * allowance)


def _assert_inertia(dense, centers, labels, weights, inertia, allowance):
    """inertia is the weighted sum of squared distances to the assigned
    centers, recomputed in float64 (each term within its allowance)."""
    dist = sq_distances(dense, centers)[np.arange(dense.shape[0]), labels]
    recomputed = float(np.sum(weights * dist))
    slack = float(np.sum(weights * allowance)) + 1e-12 * recomputed
    assert abs(inertia - recomputed) <= slack, (inertia, recomputed, slack)


def _check_labels_inertia(dense, dtype, centers, labels, weights, inertia, mean):
    """labels_ in range, int32, nearest centers; inertia_ recomputed.
    Returns the allowance."""
    assert labels.dtype == np.int32 and labels.shape == (dense.shape[0],)
    assert labels.min() >= 0 and labels.max() < centers.shape[0]
    assert isinstance(inertia, float) and inertia >= 0
    allowance = _allowance(dense, dtype, centers, mean)
    _assert_inertia(dense, centers, labels, weights, inertia, allowance)
    _assert_nearest(dense, centers, labels, allowance)
    return allowance


def _resolvable_distinct(dense, weights, allowance):
    """Number of distinct positive-weight samples, if the dtype resolves
    their distances (the closest two are farther apart than the rounding
    allowance), else None."""
    rows = np.unique(dense[weights > 0], axis=0)
    if rows.shape[0] < 2:
        return rows.shape[0]
    with np.errstate(over="ignore", under="ignore"):
        closest = float(np.min(pdist(rows, "sqeuclidean")))
    return rows.shape[0] if closest > 8 * float(allowance.max()) else None


def _weights(n_samples):
    """None, or weights with zeros (at least one positive) and a wide range."""
    return st.one_of(st.none(), st.lists(
        st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e3]), min_size=n_samples,
        max_size=n_samples).map(_some_positive))


def _some_positive(weights):
    """The weights, the first made 1 if all are zero (a filter would reject
    most single-sample draws)."""
    weights = np.array(weights)
    if not weights.any():
        weights[0] = 1.0
    return weights


def _weight_array(sample_weight, n_samples):
    return np.ones(n_samples) if sample_weight is None else sample_weight


###############################################################################
# KMeans


@st.composite
def kmeans_problems(draw, sparse=False):
    d = draw(data(exponents=KMEANS_EXPONENTS, sparse=sparse))
    n_clusters = draw(cluster_counts(d.n_samples, d.n_distinct()))
    sample_weight = draw(_weights(d.n_samples))
    algorithm = draw(st.sampled_from(["lloyd", "elkan"]))
    init = draw(st.sampled_from(["k-means++", "random"]))
    return d, n_clusters, sample_weight, algorithm, init, draw(st.integers(0, 2**31 - 1))


def _check_kmeans(problem):
    d, n_clusters, sample_weight, algorithm, init, seed = problem
    weights = _weight_array(sample_weight, d.n_samples)

    params = dict(n_clusters=n_clusters, algorithm=algorithm, init=init,
                  random_state=seed, n_init=2 if init == "random" else 1)

    def fit():
        return KMeans(**params).fit(d.X, sample_weight=sample_weight)

    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(fit, 1)),
        lambda: SkKMeans(**params).fit(d.X, sample_weight=sample_weight))
    d.assert_unchanged()
    if error is not None:
        # e.g. init="random" with fewer positive weights than clusters.
        event(f"KMeans raised as scikit-learn: {type(error).__name__}")
        return
    one, caught = result
    two, _ = recorded(lambda: in_threads(fit, 2))
    assert_few_warnings(caught)

    labels, centers = one.labels_, one.cluster_centers_
    assert centers.dtype == d.dtype and centers.shape == (n_clusters, d.n_features)
    assert np.all(np.isfinite(centers))
    assert 1 <= one.n_iter_ <= one.max_iter
    mean = 0.0 if sp.issparse(d.X) else d.dense.mean(axis=0)
    allowance = _check_labels_inertia(d.dense, d.dtype, centers, labels, weights,
                                      one.inertia_, mean)

    n_used = np.unique(labels).size
    if n_used < n_clusters:
        # scikit-learn's warning when fewer clusters come out.
        assert any(issubclass(w.category, ConvergenceWarning)
                   and "distinct clusters" in str(w.message) for w in caught)
    n_distinct = _resolvable_distinct(d.dense, weights, allowance)
    if n_distinct is not None and n_clusters <= n_distinct:
        event("every cluster used: checked")
        assert n_used == n_clusters

    for name in ("labels_", "cluster_centers_", "inertia_", "n_iter_"):
        assert_same_bits(getattr(one, name), getattr(two, name), name)

    predicted = one.predict(d.X)
    d.assert_unchanged()
    assert predicted.dtype == np.int32
    _assert_nearest(d.dense, centers, predicted,
                    _allowance(d.dense, d.dtype, centers, 0.0))


@given(kmeans_problems())
def test_kmeans_dense(problem):
    _check_kmeans(problem)


@given(kmeans_problems(sparse=True))
def test_kmeans_sparse(problem):
    _check_kmeans(problem)


###############################################################################
# MiniBatchKMeans


@st.composite
def minibatch_problems(draw):
    d = draw(data(exponents=KMEANS_EXPONENTS, sparse=None))
    n_clusters = draw(cluster_counts(d.n_samples, d.n_distinct()))
    params = dict(
        n_clusters=n_clusters,
        init=draw(st.sampled_from(["k-means++", "random"])),
        batch_size=draw(st.sampled_from([1, 7, 64, 1024])),
        max_iter=draw(st.integers(1, 10)),
        reassignment_ratio=draw(st.sampled_from([0.0, 0.01, 0.5])),
        random_state=draw(st.integers(0, 2**31 - 1)),
    )
    return d, params, draw(_weights(d.n_samples))


@given(minibatch_problems())
def test_minibatch_fit(problem):
    d, params, sample_weight = problem
    weights = _weight_array(sample_weight, d.n_samples)

    def fit():
        return MiniBatchKMeans(**params).fit(d.X, sample_weight=sample_weight)

    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(fit, 1)),
        lambda: SkMiniBatchKMeans(**params).fit(d.X, sample_weight=sample_weight))
    d.assert_unchanged()
    if error is not None:
        event(f"MiniBatchKMeans raised as scikit-learn: {type(error).__name__}")
        return
    one, caught = result
    two, _ = recorded(lambda: in_threads(fit, 2))
    assert_few_warnings(caught)

    centers = one.cluster_centers_
    assert centers.dtype == d.dtype and centers.shape == (params["n_clusters"],
                                                          d.n_features)
    assert np.all(np.isfinite(centers))
    assert one.counts_.dtype == d.dtype and np.all(one.counts_ >= 0)
    # labels_ and inertia_ label the whole of X with the final centers
    # (no centering: mean 0).
    _check_labels_inertia(d.dense, d.dtype, centers, one.labels_, weights,
                          one.inertia_, 0.0)
    for name in ("labels_", "cluster_centers_", "inertia_", "counts_", "n_steps_"):
        assert_same_bits(getattr(one, name), getattr(two, name), name)


@given(minibatch_problems(), st.integers(1, 3))
def test_minibatch_partial_fit(problem, n_batches):
    d, params, sample_weight = problem
    weights = _weight_array(sample_weight, d.n_samples)
    n_clusters = params["n_clusters"]
    # Batches of rows, the first with at least n_clusters samples.
    cuts = np.unique(np.linspace(n_clusters, d.n_samples, n_batches).astype(int))
    bounds = list(zip(np.r_[0, cuts[:-1]], cuts))
    params = {k: v for k, v in params.items() if k not in ("batch_size", "max_iter")}

    def fit_batches():
        model = MiniBatchKMeans(**params)
        seen = []
        for start, stop in bounds:
            w = None if sample_weight is None else sample_weight[start:stop]
            model.partial_fit(d.X[start:stop], sample_weight=w)
            seen.append((model.cluster_centers_.copy(), model.labels_, model.inertia_,
                         model.n_steps_))
        return model, seen

    def reference():
        model = SkMiniBatchKMeans(**params)
        for start, stop in bounds:
            w = None if sample_weight is None else sample_weight[start:stop]
            model.partial_fit(d.X[start:stop], sample_weight=w)

    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(fit_batches, 1)), reference)
    d.assert_unchanged()
    if error is not None:
        event(f"partial_fit raised as scikit-learn: {type(error).__name__}")
        return
    (one, seen), caught = result
    (two, _), _ = recorded(lambda: in_threads(fit_batches, 2))
    assert_few_warnings(caught)

    for step, ((start, stop), (centers, labels, inertia, n_steps)) in enumerate(
            zip(bounds, seen)):
        assert n_steps == step + 1
        assert centers.dtype == d.dtype and np.all(np.isfinite(centers))
        # Each batch's labels_ and inertia_: that batch, the centers after it.
        _check_labels_inertia(d.dense[start:stop], d.dtype, centers, labels,
                              weights[start:stop], inertia, 0.0)
    for name in ("labels_", "cluster_centers_", "inertia_", "counts_", "n_steps_"):
        assert_same_bits(getattr(one, name), getattr(two, name), name)


###############################################################################
# kmeans_plusplus


@given(data(exponents=KMEANS_EXPONENTS, sparse=None), st.data())
def test_kmeans_plusplus(d, draw):
    n_clusters = draw.draw(cluster_counts(d.n_samples, d.n_distinct()), "n_clusters")
    sample_weight = draw.draw(_weights(d.n_samples), "sample_weight")
    n_local_trials = draw.draw(st.sampled_from([None, 1, 9]), "n_local_trials")
    seed = draw.draw(st.integers(0, 2**31 - 1), "random_state")
    weights = _weight_array(sample_weight, d.n_samples)

    def seeds():
        return kmeans_plusplus(d.X, n_clusters, sample_weight=sample_weight,
                               random_state=seed, n_local_trials=n_local_trials)

    (centers, indices), caught = recorded(lambda: in_threads(seeds, 1))
    centers_2, indices_2 = in_threads(seeds, 2)
    d.assert_unchanged()
    assert not caught, [str(w.message) for w in caught]
    _, sk_indices = sk_kmeans_plusplus(d.X, n_clusters, sample_weight=sample_weight,
                                       random_state=seed, n_local_trials=n_local_trials)
    assert indices.dtype == sk_indices.dtype and indices.shape == (n_clusters,)
    assert centers.dtype == d.dtype and centers.shape == (n_clusters, d.n_features)
    assert indices.min() >= 0 and indices.max() < d.n_samples
    # Each center is its sample, bit for bit.
    rows = d.X[indices].toarray() if sp.issparse(d.X) else d.X[indices]
    assert_same_bits(centers, rows.astype(d.dtype), "centers and X[indices]")
    # Where the positive-weight samples offer n_clusters distinct points
    # (that the dtype tells apart), k-means++ picks distinct ones of positive
    # weight: a chosen point's D^2 weight is zero.
    allowance = _allowance(d.dense, d.dtype, centers, 0.0)
    n_distinct = _resolvable_distinct(d.dense, weights, allowance)
    if n_distinct is not None and n_clusters <= n_distinct:
        event("distinct centers: checked")
        assert np.unique(d.dense[indices], axis=0).shape[0] == n_clusters
        assert np.all(weights[indices] > 0)
    assert_same_bits(centers, centers_2, "centers")
    assert_same_bits(indices, indices_2, "indices")

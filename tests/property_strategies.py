"""Hypothesis strategies and checks shared by the property tests
(``test_properties_clustering.py``, ``test_properties_mixture.py``).

A drawn data set is a :class:`Recipe` (shape, dtype, content, scale, memory
layout, ...) from which :func:`make_data` builds the array deterministically:
hypothesis shrinks the recipe's few numbers rather than thousands of array
elements, and a failing example can be rebuilt in a plain regression test from
the recipe that hypothesis prints. Small data sets may also take their values
from hypothesis directly (``kind="drawn"``), for the values a generator would
not think of (exact ties, -0.0, repeated extremes).

Values near the float limits come from the scale factor ``10**exponent``: the
data is first normalised to a largest magnitude of about 1, so the exponent is
the order of magnitude of the values. Which exponents an estimator can take
("where the math allows") depends on what it squares and in which dtype; each
test module writes its ranges down beside its tests.
"""

import dataclasses
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

DTYPES = (np.float32, np.float64)
# C order, Fortran order, a view on every other row of a larger array, a view
# on every other column of one. The rows and columns the views skip hold NaN,
# so a kernel that ignores the strides reads a NaN and the checks fail.
LAYOUTS = ("C", "F", "rows", "cols")
KINDS = ("blobs", "integers", "uniform", "identical", "drawn")
# The largest n_samples x n_features drawn: the suite must stay fast on two
# cores (its budget: under a minute for the "ci" profile).
MAX_CELLS = 12_000


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything needed to rebuild a drawn data set (see :func:`make_data`)."""

    n_samples: int
    n_features: int
    dtype: str = "float64"
    kind: str = "blobs"
    seed: int = 0
    # Columns set to one constant value, and the fraction of rows replaced
    # by copies of other rows.
    n_constant: int = 0
    duplicates: float = 0.0
    # Largest magnitude of the values: 10**exponent; offset moves the data
    # away from the origin by that many times its spread (the sum still
    # scaled to 10**exponent).
    exponent: int = 0
    offset: float = 0.0
    layout: str = "C"
    read_only: bool = False
    # None: dense. Otherwise a CSR matrix keeping this fraction of the
    # entries, some of the kept ones set to explicit zeros.
    density: float = None
    # kind="drawn": the values, row by row, in [-1, 1].
    values: tuple = None


@dataclasses.dataclass(eq=False)
class Data:
    """A drawn data set, as an estimator gets it, with what the checks need."""

    recipe: Recipe
    X: object            # the input: an array, a view, read-only, or CSR
    dense: np.ndarray    # X's values, float64, C-contiguous: for recomputing
    _snapshot: tuple     # bytes of everything X is made of, and its flags

    def __repr__(self):
        # Hypothesis prints this for a failing example: the recipe rebuilds it.
        return f"make_data({self.recipe!r})"

    @property
    def dtype(self):
        return np.dtype(self.recipe.dtype)

    @property
    def n_samples(self):
        return self.recipe.n_samples

    @property
    def n_features(self):
        return self.recipe.n_features

    def n_distinct(self, mask=None):
        """Number of distinct rows (of those in mask), in X's own dtype."""
        rows = self.dense if mask is None else self.dense[mask]
        return 0 if rows.shape[0] == 0 else np.unique(rows, axis=0).shape[0]

    def assert_unchanged(self):
        """The caller's array, and the memory around a view, are as drawn."""
        assert _snapshot(self.X) == self._snapshot, "the input was modified"


def _owner(array):
    """The array whose memory a view is taken from (itself if none)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _snapshot(X):
    if sp.issparse(X):
        parts = (X.data, X.indices, X.indptr)
        return tuple(p.tobytes() for p in parts) + tuple(p.flags.writeable for p in parts)
    return (_owner(X).tobytes(), X.flags.writeable, X.strides, X.shape)


def _values(recipe, rng):
    n, d = recipe.n_samples, recipe.n_features
    if recipe.kind == "drawn":
        return np.asarray(recipe.values, dtype=np.float64).reshape(n, d)
    if recipe.kind == "integers":
        # Few distinct values: duplicates and ties between distances.
        return rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    if recipe.kind == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, d))
    if recipe.kind == "identical":
        return np.repeat(rng.normal(size=(1, d)), n, axis=0)
    # blobs: a few Gaussian clusters of different spreads.
    n_blobs = int(rng.integers(1, 6))
    centers = rng.normal(scale=10.0, size=(n_blobs, d))
    spreads = rng.uniform(0.1, 2.0, size=n_blobs)
    which = rng.integers(0, n_blobs, size=n)
    return centers[which] + rng.normal(size=(n, d)) * spreads[which, None]


def make_data(recipe):
    """Build the data set a recipe describes (deterministic)."""
    rng = np.random.default_rng(recipe.seed)
    dtype = np.dtype(recipe.dtype)
    n, d = recipe.n_samples, recipe.n_features
    values = _values(recipe, rng)
    if recipe.n_constant:
        columns = rng.choice(d, size=min(recipe.n_constant, d), replace=False)
        values[:, columns] = rng.normal()
    if recipe.duplicates and n > 1:
        rows = rng.random(n) < recipe.duplicates
        values[rows] = values[rng.integers(0, n, size=int(rows.sum()))]
    # Largest magnitude at most 1 (offset included), then 10**exponent
    # (computed in float64 and rounded once to the dtype, so float32 reaches
    # its own limits).
    peak = np.max(np.abs(values)) if values.size else 0.0
    if peak > 0:
        values /= peak
    values = (values + recipe.offset) / (1.0 + recipe.offset)
    with np.errstate(under="ignore"):
        values = (values * 10.0 ** recipe.exponent).astype(dtype)

    if recipe.density is not None:
        keep = rng.random((n, d)) < recipe.density
        X = sp.csr_matrix(np.where(keep, values, 0).astype(dtype))
        if X.nnz:
            # Explicit zeros: stored entries whose value is 0.
            X.data[rng.random(X.nnz) < 0.1] = 0
        if recipe.read_only:
            for part in (X.data, X.indices, X.indptr):
                part.setflags(write=False)
        dense = X.toarray().astype(np.float64)
    else:
        if recipe.layout == "C":
            X = np.ascontiguousarray(values)
        elif recipe.layout == "F":
            X = np.asfortranarray(values)
        elif recipe.layout == "rows":
            big = np.full((2 * n, d), np.nan, dtype=dtype)
            big[::2] = values
            X = big[::2]
        else:
            big = np.full((n, 2 * d), np.nan, dtype=dtype)
            big[:, ::2] = values
            X = big[:, ::2]
        if recipe.read_only:
            X.setflags(write=False)
        dense = np.ascontiguousarray(values, dtype=np.float64)
    return Data(recipe, X, dense, _snapshot(X))


@st.composite
def recipes(draw, *, min_samples=1, max_samples=3000, max_features=64, dtypes=DTYPES,
            exponents=None, kinds=KINDS, layouts=LAYOUTS, sparse=False,
            offsets=(0.0, 0.0, 3.0, 1000.0), sparse_exponents=None):
    """Draw a :class:`Recipe`.

    exponents: {dtype name: (lowest, highest)} of the scale 10**exponent
    (None: always 1); sparse_exponents: the same for CSR matrices (None: as
    exponents). sparse: draw CSR matrices (True) or both (None).
    """
    # Most data sets are small; some hundreds of samples; a few thousands,
    # with few features then (the first entries are what hypothesis shrinks to).
    size = draw(st.sampled_from(["small"] * 14 + ["medium"] * 4 + ["large"] * 2))
    if size == "small" or max_samples <= 64:
        n_samples = draw(st.integers(min_samples, max(min_samples, min(max_samples, 64))))
        n_features = draw(st.integers(1, max_features))
    elif size == "medium" or max_samples <= 400:
        n_samples = draw(st.integers(max(min_samples, 65), min(max_samples, 400)))
        n_features = draw(st.integers(1, min(max_features, MAX_CELLS // n_samples)))
    else:
        n_samples = draw(st.integers(max(min_samples, 401), max_samples))
        n_features = draw(st.integers(1, min(max_features, 4, MAX_CELLS // n_samples)))
    dtype = draw(st.sampled_from([np.dtype(t).name for t in dtypes]))
    kind = draw(st.sampled_from(kinds if n_samples * n_features <= 64 else
                                [k for k in kinds if k != "drawn"]))
    values = None
    if kind == "drawn":
        element = st.floats(-1.0, 1.0, width=32 if dtype == "float32" else 64,
                            allow_subnormal=False)
        values = tuple(draw(st.lists(element, min_size=n_samples * n_features,
                                     max_size=n_samples * n_features)))
    is_sparse = sparse if sparse is not None else draw(st.booleans())
    if is_sparse and sparse_exponents is not None:
        exponents = sparse_exponents
    exponent = 0
    if exponents is not None:
        low, high = exponents[dtype]
        # Usually 1; else anywhere in the range, or at one of its ends.
        exponent = draw(st.one_of(st.just(0), st.integers(low, high),
                                  st.sampled_from([low, high])))
    return Recipe(
        n_samples=n_samples, n_features=n_features, dtype=dtype, kind=kind,
        seed=draw(st.integers(0, 2**32 - 1)),
        n_constant=draw(st.sampled_from([0, 0, 1, n_features])),
        duplicates=draw(st.sampled_from([0.0, 0.0, 0.3, 0.9])),
        exponent=exponent, offset=draw(st.sampled_from(offsets)),
        layout=draw(st.sampled_from(layouts)),
        read_only=draw(st.booleans()),
        density=draw(st.sampled_from([0.0, 0.3, 0.8, 1.0])) if is_sparse else None,
        values=values,
    )


def data(**knobs):
    """Strategy of :class:`Data`: ``recipes(**knobs)`` built."""
    return recipes(**knobs).map(make_data)


def cluster_counts(n_samples, n_distinct):
    """Strategy of n_clusters for n_samples: 1, n_samples, the number of
    distinct rows, or anything in between."""
    return st.one_of(st.sampled_from(sorted({1, n_samples, max(1, n_distinct)})),
                     st.integers(1, n_samples))


###############################################################################
# Checks


def sq_distances(A, B):
    """Squared Euclidean distances from differences, in float64."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    out = np.empty((A.shape[0], B.shape[0]))
    with np.errstate(over="ignore", under="ignore"):
        for j in range(B.shape[0]):
            out[:, j] = ((A - B[j]) ** 2).sum(axis=1)
    return out


def in_threads(function, n_threads):
    """function() with the OpenMP threads limited to n_threads."""
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        return function()


def assert_same_bits(a, b, what):
    """Equal values and dtype, bit for bit (NaN and -0.0 included)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what} differ between 1 and 2 threads"


def recorded(function):
    """(function(), the warnings it emitted)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    return result, caught


# More warnings than this from one call is a storm (a warning per iteration
# or per sample), not information.
MAX_WARNINGS = 4


def assert_few_warnings(caught):
    assert len(caught) <= MAX_WARNINGS, [str(w.message) for w in caught]


def same_error_as_reference(ours, reference):
    """Run ours(); if it raises, the reference (scikit-learn on the same
    input) must raise an exception of the same type. Returns (result,
    error): error is the exception both raised, result None then."""
    try:
        return ours(), None
    except Exception as error:  # noqa: BLE001 - compared with the reference
        try:
            reference()
        except type(error):
            return None, error
        except Exception as other:  # noqa: BLE001
            raise AssertionError(
                f"we raise {error!r}, scikit-learn raises {other!r}") from error
        raise AssertionError(f"we raise {error!r}, scikit-learn does not") from error

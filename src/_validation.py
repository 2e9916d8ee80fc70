"""Parameter and data checks shared by every estimator.

Uses scikit-learn's public validation helpers (``validate_data``,
``check_array``). The declarative parameter-constraint types live in a private
scikit-learn module; they are imported here and only here, within the pinned
scikit-learn range of ``pyproject.toml``, and ``tests/test_common.py`` fails
loudly if they move.
"""

import os
import sys
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils._param_validation import (  # private: see module docstring
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import validate_data

__all__ = [
    "as_c_contiguous",
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Real",
    "StrOptions",
    "check_sample_weight",
    "is_array_like",
    "validate_data",
    "validate_samples",
    "validate_parameter_constraints",
    "variance_tolerance",
    "warn_at_caller",
]

FLOAT_DTYPES = (np.float64, np.float32)
# Frames that warn_at_caller steps over: this package's, and joblib's (the
# `memory` cache that AgglomerativeClustering calls its tree builder through).
_INTERNAL_DIRS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep for path in (__file__, joblib.__file__))
# Bytes of the output written per block by as_c_contiguous: a block of rows
# and the columns it is read from stay in cache.
_COPY_BLOCK_BYTES = 1 << 20


def as_c_contiguous(X, dtype=None):
    """X as a C-contiguous array of ``dtype`` (default: its own), without a
    copy when it is one already.

    Any other layout (Fortran-ordered, a strided view) is copied a block of
    rows at a time. NumPy's own copy of a Fortran-ordered array into C order
    walks the whole output for each column: measured here on 1,000,000 x 20
    float64, 0.24 s against 0.04 s by blocks.
    """
    dtype = X.dtype if dtype is None else np.dtype(dtype)
    if X.flags.c_contiguous:
        return X.astype(dtype, copy=False)
    out = np.empty(X.shape, dtype=dtype)
    n_rows = max(1, _COPY_BLOCK_BYTES // max(1, X.shape[1] * dtype.itemsize))
    for start in range(0, X.shape[0], n_rows):
        out[start:start + n_rows] = X[start:start + n_rows]
    return out


def is_array_like(value):
    """True for arrays, lists and sparse matrices, False for str and scalars."""
    if isinstance(value, str):
        return False
    return sp.issparse(value) or (
        hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")
    )


def validate_samples(estimator, X, *, reset=True, accept_strings=True, **kwargs):
    """X as the kernels read it: validated as scikit-learn validates it
    (``validate_data``: shape, finiteness, feature names and counts), then
    float32 or float64.

    accept_strings: whether an array of numeric strings is converted, as
    scikit-learn's estimators that validate with a float dtype do (KMeans,
    MiniBatchKMeans, GaussianMixture.fit), or rejected with scikit-learn's
    message, as those that validate with ``dtype='numeric'`` do (DBSCAN,
    AgglomerativeClustering, the mixtures' predictions). Either way, any
    dtype other than float32 becomes float64: bool, int and float16 samples
    are computed in float64 (scikit-learn computes some of its predictions
    from them in their own dtype, which loses precision).
    kwargs: validate_data's other arguments.
    """
    if accept_strings:
        return validate_data(estimator, X, reset=reset, dtype=list(FLOAT_DTYPES),
                             **kwargs)
    X = validate_data(estimator, X, reset=reset, dtype="numeric", **kwargs)
    if X.dtype in FLOAT_DTYPES:
        return X
    if sp.issparse(X):
        return X.astype(np.float64)
    order = kwargs.get("order")
    return np.asarray(X, dtype=np.float64, order="K" if order is None else order)


def check_sample_weight(sample_weight, X, dtype, allow_negative=False):
    """Validated sample weights: a C-contiguous array of dtype.

    None gives ones; a scalar gives that value for every sample. Weights that
    are all zero or not finite raise ValueError, as in scikit-learn, and so do
    negative ones unless allow_negative (a score is defined for any weights;
    a weighted mean and a sampling distribution are not).
    """
    n_samples = X.shape[0]
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, Real):
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = check_array(
        sample_weight,
        accept_sparse=False,
        ensure_2d=False,
        dtype=dtype,
        order="C",
        input_name="sample_weight",
    )
    if sample_weight.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got "
            f"{sample_weight.ndim}D array."
        )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected "
            f"{(n_samples,)}!"
        )
    if np.all(sample_weight == 0):
        # scikit-learn's message; all-zero weights leave no sampling
        # distribution for the seeding and no mean for any cluster.
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if not allow_negative and np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to sample_weight")
    return np.ascontiguousarray(sample_weight)


def variance_tolerance(X, tol, centered_sq_norms=None):
    """tol scaled by the mean per-feature variance of X (scikit-learn's rule).

    centered_sq_norms: the squared norms of the rows of X less its column
    means, if known; their sum over n_samples x n_features is that mean
    variance, with no pass over X and no temporary copy of it.
    """
    if tol == 0:
        return 0.0
    if centered_sq_norms is not None:
        total = float(np.sum(centered_sq_norms, dtype=np.float64))
        return total / (X.shape[0] * X.shape[1]) * tol
    if sp.issparse(X):
        # Over the nonzeros, without a squared copy of X (scikit-learn's rule).
        variances = mean_variance_axis(X, axis=0)[1]
    else:
        variances = np.var(X, axis=0)
    return float(np.mean(variances) * tol)


def warn_at_caller(message, category=UserWarning):
    """Warn with the location of the user's call into the package.

    A fixed ``stacklevel`` breaks whenever the path from the public method to
    the warning changes (a decorator, a helper, a cache in between): the
    first frame outside turbocluster and joblib is the one to show.
    """
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)

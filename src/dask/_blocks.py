"""The samples as row blocks on the workers, and the reduction of per-block
statistics in block order.

Every pass over the samples is one task per block, each one call of a kernel
in ``turbocluster._kernels`` returning float64 sufficient statistics; the
blocks' statistics are added on a binary tree whose shape depends only on the
number of blocks, in block order. Which worker runs which block, and when,
changes nothing: the result is the same bits for 1 or 100 workers.
"""

import numbers

import numpy as np
import dask
import dask.array as da
from dask import delayed
from sklearn.utils import check_array

from .._validation import FLOAT_DTYPES

# Rows per block when NumPy input is cut into blocks.
NUMPY_BLOCK_ROWS = 100_000


def as_dask_array(X):
    """X as a 2-D dask array of float32 or float64 whose blocks hold whole
    rows; and the feature names of a dask DataFrame (else None).

    A dask DataFrame's partition lengths are computed (one cheap pass); its
    columns must be numeric. Other input (NumPy, lists) is validated as the
    in-memory estimators validate it and cut into blocks of
    NUMPY_BLOCK_ROWS rows.
    """
    import dask.dataframe as dd

    feature_names = None
    if isinstance(X, dd.DataFrame):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        non_numeric = [str(name) for name, dtype in X.dtypes.items()
                       if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))]
        if non_numeric:
            raise ValueError(
                f"A dask DataFrame's columns must all be numeric; {non_numeric} "
                "are not.")
        names = list(X.columns)
        if all(isinstance(name, str) for name in names):
            feature_names = np.asarray(names, dtype=object)
        X = X.to_dask_array(lengths=True)
    elif not isinstance(X, da.Array):
        X = check_array(X, dtype=list(FLOAT_DTYPES), order="C")
        X = da.from_array(X, chunks=(NUMPY_BLOCK_ROWS, -1))
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array, got a {X.ndim}-D dask array instead.")
    if any(isinstance(size, float) and np.isnan(size) for size in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    # The kernels read C-ordered rows; a DataFrame's blocks are Fortran-ordered.
    # A no-op (no copy) for blocks that already are.
    X = X.map_blocks(np.ascontiguousarray, dtype=X.dtype)
    return X, feature_names


def is_dask_collection(X):
    import dask.dataframe as dd

    return isinstance(X, (da.Array, dd.DataFrame))


class BlockData:
    """Row blocks of X (and of the sample weights) as dask ``Delayed``
    objects, with their sizes and offsets.

    It stands where the in-memory estimators take X: it has ``shape`` and
    ``dtype``.
    """

    def __init__(self, blocks, sizes, n_features, dtype, weights=None):
        self.blocks = list(blocks)
        self.sizes = tuple(int(size) for size in sizes)
        self.offsets = np.concatenate(([0], np.cumsum(self.sizes, dtype=np.int64)))
        self.shape = (int(self.offsets[-1]), int(n_features))
        self.dtype = np.dtype(dtype)
        self.weights = None if weights is None else list(weights)

    @classmethod
    def from_dask_array(cls, X, sample_weight=None):
        weights = None
        if sample_weight is not None:
            if isinstance(sample_weight, numbers.Number):
                sample_weight = da.full(X.shape[0], sample_weight, dtype=X.dtype,
                                        chunks=(X.chunks[0],))
            elif not isinstance(sample_weight, da.Array):
                sample_weight = np.asarray(sample_weight, dtype=X.dtype)
                sample_weight = da.from_array(sample_weight, chunks=(X.chunks[0],))
            if sample_weight.shape != (X.shape[0],):
                raise ValueError(
                    f"sample_weight.shape == {sample_weight.shape}, expected "
                    f"{(X.shape[0],)}!")
            sample_weight = sample_weight.astype(X.dtype).rechunk((X.chunks[0],))
            weights = sample_weight.to_delayed().ravel()
        return cls(X.to_delayed()[:, 0], X.chunks[0], X.shape[1], X.dtype, weights)

    @property
    def n_blocks(self):
        return len(self.blocks)

    def weight(self, b):
        return None if self.weights is None else self.weights[b]

    def with_blocks(self, blocks):
        """The same layout and weights over other blocks (a prepared copy)."""
        return BlockData(blocks, self.sizes, self.shape[1], self.dtype, self.weights)

    def to_dask_array(self, blocks, dtype, trailing_shape=()):
        """A dask array from one Delayed per block, of rows of trailing_shape."""
        return da.concatenate([
            da.from_delayed(block, (size,) + tuple(trailing_shape), dtype=dtype)
            for block, size in zip(blocks, self.sizes)])


def _add(a, b):
    if isinstance(a, tuple):
        return tuple(_add(x, y) for x, y in zip(a, b))
    return a + b


def tree_sum(parts):
    """The sum of per-block statistics (arrays, numbers, or tuples of them),
    added pairwise in block order: the same tree, hence the same rounding,
    whichever worker computes what."""
    parts = list(parts)
    while len(parts) > 1:
        parts = [delayed(_add, pure=True)(parts[i], parts[i + 1])
                 if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def compute(*args):
    """dask.compute on the current scheduler (a distributed Client if one is
    active, else Dask's default)."""
    return dask.compute(*args)


def persist(*args):
    return dask.persist(*args)


def shared(value):
    """One graph key for a value every block's task reads (the centers, the
    model): sent to each worker once, not embedded in every task."""
    return delayed(value, pure=True)

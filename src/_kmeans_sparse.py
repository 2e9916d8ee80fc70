"""K-means on CSR samples without densifying them: greedy k-means++ and
Lloyd's loop, and the passes that read fitted centers.

The steps mirror ``_kmeans_loops.py`` (which they share helpers with); every
pass over the samples is one call to a kernel in ``_kernels/_csr.pyx``. X is
never densified: memory beyond X is O(n_clusters * n_features + n_samples)
(times n_local_trials during k-means++, as in scikit-learn), plus a copy of
the index arrays where they must be converted (see :func:`_kernel_csr`).

Input: a CSR matrix (or array) of float32 or float64, validated by the caller.
The kernels read int32 indices in canonical form (sorted within rows, no
duplicates); :func:`_kernel_csr` makes that form, copying only what it must.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

from ._kernels import _csr
from ._kmeans_loops import (
    _center_shift, _draw_first_center, _report, _sq_norms, _update_centers, _weight_cdf,
)

_INT32_MAX = np.iinfo(np.int32).max


###############################################################################
# Input


def _kernel_csr(X):
    """X as the CSR kernels read it: int32 indices, sorted, no duplicates.

    int64 indices (scipy picks them for large matrices, or keeps them from
    the arrays a matrix was built from) are narrowed to int32 when every
    index fits, at the cost of a copy of the index arrays; a matrix whose nnz
    or n_features does not fit in int32 is refused, as scikit-learn's KMeans
    refuses it (``accept_large_sparse=False``). Unsorted indices or
    duplicate entries are put in canonical form (duplicates summed, which is
    what they mean) on a copy; the caller's matrix is never modified.
    """
    if not sp.issparse(X) or X.format != "csr":
        X = sp.csr_matrix(X)
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        if X.nnz > _INT32_MAX or X.shape[1] > _INT32_MAX:
            raise ValueError(
                "Sparse input with more than 2**31 - 1 stored values or features "
                "is not supported: its indices do not fit in int32."
            )
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
            shape=X.shape, copy=False)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _parts(X):
    """The CSR arrays the kernels take."""
    return X.data, X.indices, X.indptr


def _sq_norms64(centers):
    """Squared norms of the centers in double, as the CSR kernels take them
    (for float64 centers, the same values as ``_sq_norms``)."""
    if centers.dtype == np.float64:
        return _sq_norms(centers)
    # Cast while summing (buffered), not as a float64 copy of the centers.
    return np.einsum("ij,ij->i", centers, centers, dtype=np.float64)


def _transposed(centers):
    """The centers as the CSR kernels take them: transposed, (n_features,
    n_padded) with zero columns up to ``_csr.padded_width(n_clusters)``."""
    n_clusters, n_features = centers.shape
    n_padded = _csr.padded_width(n_clusters)
    if n_padded == n_clusters:
        return np.ascontiguousarray(centers.T)
    centers_t = np.zeros((n_features, n_padded), dtype=centers.dtype)
    centers_t[:, :n_clusters] = centers.T
    return centers_t


###############################################################################
# Seeding


def csr_kmeans_plusplus(X, n_clusters, sample_weight, random_state,
                        n_local_trials=None, n_threads=1, check_finite=False):
    """Greedy k-means++ on CSR X; returns the centers (dense) and their indices.

    The random numbers are drawn, and the draws resolved, as scikit-learn 1.9's
    ``_kmeans_plusplus`` does: the first center by ``random_state.choice``
    with probabilities proportional to ``sample_weight``; then, per center,
    ``n_local_trials`` thresholds ``uniform() * potential`` located in the
    cumulative sum of ``sample_weight * D^2`` (in X's dtype, clipped to the
    last sample), and the candidate of smallest potential kept. The squared
    distances are computed with scikit-learn's arithmetic (see
    ``_csr.score_candidates``), so for the same ``random_state`` the centers
    are the same.

    Potentials: float64 X sums them in double by chunks (the same for any
    number of threads). float32 X takes them as scikit-learn does, a float32
    product ``dist @ sample_weight``: its rounding moves the thresholds by
    about sqrt(n_samples) float32 ulps, more than one sample's share of the
    potential on large data, so the same draws need the same arithmetic.

    check_finite: X is not yet known to be free of NaN and infinity; the
    first pass (which sees every value through the norms) checks it.

    Time O(n_clusters * n_local_trials * nnz); memory O(n_local_trials *
    n_samples + n_clusters * n_features) besides X.
    """
    X = _kernel_csr(X)
    data, indices, indptr = _parts(X)
    n_samples, n_features = X.shape
    dtype = X.dtype
    sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    if n_local_trials is None:
        # Arthur and Vassilvitskii's suggestion of 2 + log(k) trials.
        n_local_trials = 2 + int(np.log(n_clusters))

    centers = np.zeros((n_clusters, n_features), dtype=dtype)
    center_ids = np.full(n_clusters, -1, dtype=np.intp)
    x_sq_norms = np.empty(n_samples, dtype=np.float64)
    _csr.row_sq_norms(data, indptr, x_sq_norms, n_threads)
    if check_finite and not np.isfinite(x_sq_norms.sum()):
        # NaN or infinity in X, or values whose squares overflow: scikit-learn's
        # check tells which, and passes the latter.
        assert_all_finite(X, input_name="X")

    # The candidates as the scoring kernel takes them: the row of a compact
    # table that holds each feature some candidate has, -1 for the others.
    feature_slot = np.full(n_features, -1, dtype=np.int32)
    dist = np.empty((n_local_trials, n_samples), dtype=dtype)
    chunk_potential = np.empty((n_local_trials, _csr.n_chunks(n_samples)))

    def score(ids, closest_sq):
        """Fill rows :len(ids) of dist; return the candidates' potentials."""
        n_trials = len(ids)
        rows = [slice(indptr[i], indptr[i + 1]) for i in ids]
        features = np.unique(np.concatenate([indices[row] for row in rows]))
        feature_slot[features] = np.arange(features.size, dtype=np.int32)
        candidate_rows = np.zeros((features.size, n_trials), dtype=dtype)
        for t, row in enumerate(rows):
            candidate_rows[feature_slot[indices[row]], t] = data[row]
        _csr.score_candidates(
            data, indices, indptr, x_sq_norms, sample_weight, feature_slot,
            candidate_rows, x_sq_norms[ids], closest_sq, dist[:n_trials],
            chunk_potential[:n_trials], n_threads)
        feature_slot[features] = -1
        if dtype == np.float64:
            potentials = chunk_potential[:n_trials].sum(axis=1)
        elif n_trials == 1:
            potentials = dist[:1] @ sample_weight
        else:
            potentials = (dist[:n_trials] @ sample_weight.reshape(-1, 1))[:, 0]
        return potentials, rows

    def choose(c, ids, t, rows):
        centers[c, indices[rows[t]]] = data[rows[t]]
        center_ids[c] = ids[t]

    first = _draw_first_center(random_state, _weight_cdf(sample_weight))
    closest_sq = np.full(n_samples, np.inf, dtype=dtype)
    potentials, rows = score([first], closest_sq)
    choose(0, [first], 0, rows)
    closest_sq[:] = dist[0]
    current_pot = potentials[0]

    for c in range(1, n_clusters):
        thresholds = random_state.uniform(size=n_local_trials) * current_pot
        candidate_ids = np.searchsorted(np.cumsum(sample_weight * closest_sq),
                                        thresholds)
        # Rounding can put a threshold past the total.
        np.clip(candidate_ids, None, n_samples - 1, out=candidate_ids)
        potentials, rows = score(candidate_ids, closest_sq)
        best = int(np.argmin(potentials))
        current_pot = potentials[best]
        closest_sq[:] = dist[best]
        choose(c, candidate_ids, best, rows)

    return centers, center_ids


###############################################################################
# Lloyd's loop


def _feature_blocks(X, n_threads):
    """The feature blocks that the cluster sums are cut into, one per thread,
    with about equal numbers of nonzeros, and where each row's nonzeros of
    each block start (see _csr.block_starts). The sums do not depend on the
    blocks, only the balance of the work does: the nonzeros are counted on a
    sample of at most 2**16 of them."""
    n_samples, n_features = X.shape
    n_blocks = max(1, min(int(n_threads), n_features))
    bounds = np.array([0, n_features], dtype=np.intp)
    if n_blocks > 1 and X.nnz > 0:
        sample = X.indices[::max(1, X.nnz >> 16)]
        nnz_before = np.cumsum(np.bincount(sample, minlength=n_features))
        targets = sample.size * np.arange(1, n_blocks) / n_blocks
        inner = np.searchsorted(nnz_before, targets, side="right")
        bounds = np.unique(np.concatenate(([0], inner, [n_features]))).astype(np.intp)
    starts = np.empty((bounds.size - 2, n_samples), dtype=np.int32)
    _csr.block_starts(X.indices, X.indptr, bounds, starts, n_threads)
    return bounds, starts


def csr_kmeans_single(X, sample_weight, centers, max_iter, verbose, tol, n_threads,
                      report_suffix="."):
    """One run of Lloyd's iterations on CSR X; returns labels, inertia,
    centers, n_iter.

    The convergence rules are scikit-learn's: strict convergence when no
    label changes, else a stop once the squared center shift is within tol;
    without strict convergence the samples are assigned once more so that
    labels_ match the centers. Every iteration is one kernel call (two
    passes over X) and an O(n_clusters * n_features) update.
    """
    X = _kernel_csr(X)
    data, indices, indptr = _parts(X)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=X.dtype)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    n_samples = X.shape[0]
    n_clusters, n_features = centers.shape
    labels = np.full(n_samples, -1, dtype=np.int32)
    sums = np.empty((n_clusters, n_features), dtype=np.float64)
    weight_in_clusters = np.empty(n_clusters, dtype=np.float64)
    feature_bounds, block_starts = _feature_blocks(X, n_threads)
    strict = False

    for i in range(max_iter):
        centers_t, norms = _transposed(centers), _sq_norms64(centers)
        # The first pass changes every label (from -1): never strict.
        n_changed = _csr.lloyd_iter(data, indices, indptr, sample_weight, centers_t,
                                    norms, feature_bounds, block_starts, labels, sums,
                                    weight_in_clusters, n_threads)
        new_centers = _update_centers(X, sample_weight, centers, sums,
                                      weight_in_clusters, labels, n_threads)
        shift_sq = float(np.sum(_center_shift(new_centers, centers) ** 2))
        strict = n_changed == 0
        _report(verbose, i,
                lambda: _csr.labelled_inertia(data, indices, indptr, sample_weight,
                                              centers_t, norms, labels, n_threads),
                shift_sq, tol, strict, report_suffix)
        centers = new_centers
        if strict or shift_sq <= tol:
            break

    centers_t, norms = _transposed(centers), _sq_norms64(centers)
    if strict:
        # The labels are those of the last pass, which the centers came from.
        inertia = _csr.labelled_inertia(data, indices, indptr, sample_weight,
                                        centers_t, norms, labels, n_threads)
    else:
        # The centers moved after the last assignment: assign once more so
        # that labels_ and predict(X) agree.
        inertia = _csr.assign_labels(data, indices, indptr, sample_weight, centers_t,
                                     norms, labels, True, n_threads)
    return labels, inertia, centers, i + 1


###############################################################################
# Fitted centers


def csr_labels_inertia(X, sample_weight, centers, n_threads, return_inertia=True):
    """Nearest center of each sample (int32) and the weighted inertia (a
    float), or the labels alone if not return_inertia (predict: a cheaper
    pass)."""
    X = _kernel_csr(X)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=X.dtype)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    labels = np.empty(X.shape[0], dtype=np.int32)
    inertia = _csr.assign_labels(*_parts(X), sample_weight, _transposed(centers),
                                 _sq_norms64(centers), labels, return_inertia,
                                 n_threads)
    return (labels, inertia) if return_inertia else labels


def csr_transform(X, centers, n_threads):
    """Distances of the samples to the centers, (n_samples, n_clusters), of
    X's dtype; summed over the nonzeros in double (see _csr.pyx)."""
    X = _kernel_csr(X)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    _csr.center_distances(*_parts(X), _transposed(centers), _sq_norms64(centers),
                          out, n_threads)
    return out

"""K-means' inner workings: greedy k-means++ and Lloyd's convergence loop on
dense data, and the helpers they share with the sparse versions
(``_kmeans_sparse.py``).

Each function here is one step of the story that ``_kmeans.py`` tells; every
pass over the samples is one call to a kernel in ``turbocluster._kernels``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist
from sklearn.utils import assert_all_finite

from ._kernels import _assign, _kmeanspp, _lloyd, _small
from ._threads import blas_single_threaded

# Rows per block when predict, transform and score read X in another layout
# than C order.
_BLOCK_ROWS = 4096
_CHUNK_SIZE = 256  # must match CHUNK_SIZE in _kernels/_reduce.pxd
_CENTER_BLOCK = 8  # must match TURBOCLUSTER_CENTER_BLOCK in _kernels/_simd.h


###############################################################################
# Seeding


def _weight_cdf(sample_weight):
    """The cumulative distribution that
    ``random_state.choice(n, p=sample_weight / sample_weight.sum())`` searches
    (scikit-learn's draw of the first k-means++ center), built once.

    NumPy's legacy ``choice`` casts p to float64, takes its cumulative sum,
    divides it by its last value, and looks up one ``random_sample()`` in it;
    doing the same here draws the same index from the same stream, without
    validating and summing the weights again for every run.
    """
    p = np.asarray(sample_weight / sample_weight.sum(), dtype=np.float64)
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def _draw_first_center(random_state, cdf):
    """``random_state.choice(len(cdf), p=...)`` for the cdf of _weight_cdf."""
    return int(cdf.searchsorted(random_state.random_sample(), side="right"))


def _assign_labels(X, sample_weight, centers, labels, n_threads):
    """_assign.assign_labels on C-contiguous X: (inertia, n_nonfinite)."""
    centers_t, norms = _padded_t(centers)
    # Padding columns score +inf: never the nearest.
    norms[centers.shape[0]:] = np.inf
    return _assign.assign_labels(X, sample_weight, centers, centers_t, norms, labels,
                                 n_threads)


def _padded_t(centers):
    """Centers transposed and their squared norms, zero-padded to whole blocks
    of _CENTER_BLOCK, as the register-blocked kernels of _kernels/_simd.h read
    them (k-means++ candidate scores, transform)."""
    n_centers, n_features = centers.shape
    n_padded = -(-n_centers // _CENTER_BLOCK) * _CENTER_BLOCK
    centers_t = np.zeros((n_features, n_padded), dtype=centers.dtype)
    centers_t[:, :n_centers] = centers.T
    sq_norms = np.zeros(n_padded, dtype=centers.dtype)
    sq_norms[:n_centers] = _sq_norms(centers)
    return centers_t, sq_norms


def _greedy_kmeans_plusplus(X, n_clusters, sample_weight, random_state,
                            n_local_trials, n_threads, x_sq_norms=None,
                            check_finite=False):
    """k-means++ on validated, dense, C-contiguous X.

    check_finite: X is not yet known to be free of NaN and infinity; the
    pass over X that k-means++ starts with checks it, as check_array would.

    Returns the centers, their indices in X, and the index of each sample's
    nearest center (as the squared distances from the expanded product rank
    them: a starting point for Lloyd, not a final assignment).
    """
    n_samples, n_features = X.shape
    dtype = X.dtype
    if n_local_trials is None:
        # Arthur and Vassilvitskii's suggestion of 2 + log(k) trials.
        n_local_trials = 2 + int(np.log(n_clusters))

    centers = np.empty((n_clusters, n_features), dtype=dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)

    n_chunks = -(-n_samples // _CHUNK_SIZE)
    closest_sq = np.empty(n_samples, dtype=dtype)
    n_padded = -(-n_local_trials // _CENTER_BLOCK) * _CENTER_BLOCK
    # Per chunk, the candidates' squared distances to the samples they bring
    # closer (see _kernels/_kmeanspp.pyx).
    kept_sq = np.empty((n_samples, n_padded), dtype=dtype)
    kept_offset = np.empty(n_samples, dtype=np.uint16)
    n_kept = np.zeros(n_chunks, dtype=np.intp)
    chunk_potential = np.empty((n_local_trials, n_chunks), dtype=np.float64)
    gains = np.empty(n_local_trials, dtype=np.float64)
    candidate_ids = np.empty(n_local_trials, dtype=np.int32)

    first = _draw_first_center(random_state, _weight_cdf(sample_weight))
    centers[0] = X[first]
    indices[0] = first
    # D^2 to the first center, from differences, and the norms if need be, in
    # one pass over X; no candidate is pending yet.
    compute_norms = x_sq_norms is None
    if compute_norms:
        x_sq_norms = np.empty(n_samples, dtype=dtype)
    nearest = np.empty(n_samples, dtype=np.int32)
    _kmeanspp.first_center(X, centers[0], sample_weight, x_sq_norms, compute_norms,
                           closest_sq, nearest, chunk_potential[0], n_threads)
    if check_finite and not np.isfinite(chunk_potential[0].sum()):
        # NaN or infinity in X, or finite values so large that their squares
        # overflow: scikit-learn's check tells which, and passes the latter.
        assert_all_finite(X, input_name="X")
    best, last_best = 0, -1

    for c in range(1, n_clusters):
        potential = float(np.sum(chunk_potential[best]))
        thresholds = random_state.uniform(size=n_local_trials) * potential
        _kmeanspp.draw_candidates(thresholds, chunk_potential[best], sample_weight,
                                  closest_sq, kept_sq, kept_offset, n_kept, last_best,
                                  candidate_ids)
        candidates = X[candidate_ids]
        # A sample nearest to center j can get closer to some candidate only if
        # its D^2 exceeds reach[j] = min over candidates of d(candidate, c_j)^2 / 4.
        reach = (cdist(candidates, centers[:c], "sqeuclidean").min(axis=0) / 4)
        reach = reach.astype(dtype)
        # This pass also makes the last step's best candidate a center.
        _kmeanspp.score_candidates(X, x_sq_norms, sample_weight, *_padded_t(candidates),
                                   reach, c - 1, last_best, closest_sq, nearest,
                                   kept_sq, kept_offset, n_kept,
                                   chunk_potential[best].copy(), chunk_potential, gains,
                                   n_threads)
        best = last_best = int(np.argmax(gains))
        centers[c] = candidates[best]
        indices[c] = candidate_ids[best]

    _kmeanspp.add_last_center(n_clusters - 1, last_best, closest_sq, nearest, kept_sq,
                              kept_offset, n_kept, n_threads)
    return centers, indices, nearest


###############################################################################
# Convergence loops


def _sq_norms(centers):
    return np.einsum("ij,ij->i", centers, centers)


def _update_centers(X, sample_weight, centers, sums, weight_in_clusters, labels,
                    n_threads):
    """New centers: cluster means, with empty clusters moved to far samples.

    An empty cluster takes the sample farthest from its own center (the next
    farthest for the next empty cluster), which leaves its old cluster. A
    cluster that still has no weight keeps its center.

    X is dense, or CSR in the kernels' form (``_kmeans_sparse._kernel_csr``):
    then a relocated sample is densified alone.
    """
    dtype = X.dtype
    relocated = {}
    empty = np.flatnonzero(weight_in_clusters == 0)
    if empty.size:
        sq_dist = np.empty(X.shape[0], dtype=dtype)
        if sp.issparse(X):
            from ._kernels import _csr

            _csr.assigned_sq_distances(X.data, X.indices, X.indptr, centers, labels,
                                       sq_dist, n_threads)
        else:
            _assign.assigned_sq_distances(X, centers, labels, sq_dist, n_threads)
    if empty.size and sq_dist.max() == 0:
        # Every sample sits on its center: more clusters than distinct
        # samples. Relocating is pointless; scikit-learn keeps the centers.
        empty = empty[:0]
    if empty.size:
        # A zero-weight sample would leave the cluster empty (and steal the
        # move from a sample that counts): take those last.
        sq_dist[sample_weight == 0] = -1
        far = np.argpartition(sq_dist, -empty.size)[-empty.size:]
        far = far[np.lexsort((far, -sq_dist[far]))]
        for cluster, sample in zip(empty, far):
            old = labels[sample]
            weight = float(sample_weight[sample])
            row = X[[sample]].toarray()[0] if sp.issparse(X) else X[sample]
            sums[old] -= weight * row
            weight_in_clusters[old] -= weight
            sums[cluster] = weight * row
            weight_in_clusters[cluster] = weight
            relocated[cluster] = row

    filled = weight_in_clusters > 0
    if filled.all():
        # One pass instead of four (copy, gather, divide, scatter); the same
        # values: the division is in float64, then rounded to dtype.
        new_centers = np.empty_like(centers)
        np.divide(sums, weight_in_clusters[:, None], out=new_centers,
                  casting="same_kind")
    else:
        new_centers = centers.copy()
        new_centers[filled] = sums[filled] / weight_in_clusters[filled, None]
    for cluster, row in relocated.items():
        new_centers[cluster] = row
    return new_centers


def _center_shift(new_centers, centers):
    diff = new_centers.astype(np.float64) - centers
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def _report(verbose, i, inertia_fn, shift_sq, tol, strict, suffix):
    if not verbose:
        return
    print(f"Iteration {i}, inertia {inertia_fn()}{suffix}")
    if strict:
        print(f"Converged at iteration {i}: strict convergence.")
    elif shift_sq <= tol:
        print(f"Converged at iteration {i}: center shift {shift_sq} "
              f"within tolerance {tol}.")


def _kmeans_single(X, sample_weight, centers, max_iter, verbose, tol, n_threads,
                   report_suffix, guess=None):
    """One run of Lloyd's iterations; returns labels, inertia, centers, n_iter.

    Each iteration assigns every sample to its nearest center and moves every
    center to the mean of its samples. The kernel skips the samples whose
    nearest center the triangle inequality shows unchanged (two bounds per
    sample, see ``_kernels/_lloyd.pyx``); those bounds age as the centers move.

    guess, if given, is a likely nearest initial center of each sample (from
    k-means++): the first pass then computes all distances only for the
    samples that it cannot show nearest to their guess, and it never counts
    as converged, just like a first pass from scratch.
    """
    n_samples = X.shape[0]
    n_clusters, n_features = centers.shape
    if guess is None:
        labels = np.full(n_samples, -1, dtype=np.int32)
    else:
        labels = np.array(guess, dtype=np.int32)
    # With a guess: no bound is known yet. An infinite upper bound makes the
    # kernel compute the exact distance to the guessed center; zero is a
    # valid lower bound on the distance to every other.
    upper = np.full(n_samples, np.inf, dtype=X.dtype)
    second = np.zeros(n_samples, dtype=X.dtype)
    sums = np.empty((n_clusters, n_features), dtype=np.float64)
    weight_in_clusters = np.empty(n_clusters, dtype=np.float64)
    # shift: the last move of each center; max_drift: the sum of the largest moves.
    shift = np.zeros(n_clusters, dtype=np.float64)
    max_drift = 0.0
    strict = False

    for i in range(max_iter):
        n_changed = _lloyd.lloyd_iter(
            X, sample_weight, centers, _sq_norms(centers), _nearest_half_dists(centers),
            shift, max_drift, upper, second, sums, weight_in_clusters, labels,
            n_threads)
        new_centers = _update_centers(X, sample_weight, centers, sums,
                                      weight_in_clusters, labels, n_threads)
        shift = _center_shift(new_centers, centers)
        shift_sq = float(np.sum(shift**2))
        strict = n_changed == 0 and (i > 0 or guess is None)
        old_centers, centers = centers, new_centers
        _report(verbose, i,
                lambda: _assign.labelled_inertia(X, sample_weight, old_centers,
                                                 labels, n_threads),
                shift_sq, tol, strict, report_suffix)
        if strict or shift_sq <= tol:
            break
        max_drift += float(shift.max())

    return _final_assignment(X, sample_weight, centers, labels, strict, n_threads, i)


def _nearest_half_dists(centers):
    """Half the distance from each center to its nearest other (inf if alone)."""
    if centers.shape[0] == 1:
        return np.full(1, np.inf)
    half = cdist(centers, centers) / 2
    np.fill_diagonal(half, np.inf)
    return half.min(axis=1)


def _final_assignment(X, sample_weight, centers, labels, strict, n_threads, i):
    if strict:
        # The labels are those of the last pass, which the centers came from.
        inertia = _assign.labelled_inertia(X, sample_weight, centers, labels, n_threads)
    else:
        # The centers moved after the last assignment: assign once more so
        # that labels_ and predict(X) agree.
        inertia, _ = _assign_labels(X, sample_weight, centers, labels, n_threads)
    return labels, inertia, centers, i + 1


def _is_same_clustering(labels1, labels2, n_clusters):
    """Whether two labellings are the same partition, up to renaming."""
    return _assign.same_partition(np.asarray(labels1, dtype=np.int32),
                                  np.asarray(labels2, dtype=np.int32), n_clusters)


###############################################################################
# Input helpers


def _row_blocks(X):
    """(start, stop, C-contiguous block) over dense X: X itself if it is
    C-contiguous, else blocks of _BLOCK_ROWS rows copied one at a time."""
    if X.flags.c_contiguous:
        yield 0, X.shape[0], X
        return
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, X.shape[0])
        yield start, stop, np.ascontiguousarray(X[start:stop])




###############################################################################
# Small data: whole runs in one kernel call

# Below this many multiply-adds per Lloyd iteration (n_samples x n_clusters x
# n_features), runs go through _kernels/_small.pyx, one run per thread; above
# it, through the one-pass kernels, each pass parallel over the samples.
_SMALL_WORK = 1 << 22


def _is_small(X, n_clusters):
    return X.shape[0] * n_clusters * X.shape[1] <= _SMALL_WORK


def _small_runs(X, sample_weight, starts, n_clusters, n_init, random_state, max_iter,
                tol, n_threads, suffix):
    """All n_init runs of k-means on small, dense, C-contiguous X.

    starts: 'k-means++', or a function of the run's index giving its initial
    centers (called in run order, as the one-pass path calls it, so that
    random draws come out the same).

    Returns a list of (labels, inertia, centers, n_iter), one per run. The
    random numbers are drawn up front, run by run, exactly as the one-pass
    path draws them while it goes (k-means++ draws nothing else in between):
    the runs are the same.
    """
    n_samples, n_features = X.shape
    n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_init, n_clusters, n_features), dtype=X.dtype)
    uniforms = np.empty((n_init, (n_clusters - 1) * n_local_trials))
    first_centers = np.zeros(n_init, dtype=np.intp)
    seed_centers = isinstance(starts, str)
    cdf = _weight_cdf(sample_weight) if seed_centers else None
    for run in range(n_init):
        if seed_centers:
            first_centers[run] = _draw_first_center(random_state, cdf)
            uniforms[run] = random_state.uniform(size=uniforms.shape[1])
        else:
            centers[run] = starts(run)
    labels = np.empty((n_init, n_samples), dtype=np.int32)
    inertia = np.empty(n_init)
    n_iter = np.empty(n_init, dtype=np.int32)
    status = np.empty(n_init, dtype=np.int32)
    _small.kmeans_runs(X, sample_weight, centers, uniforms, first_centers, seed_centers,
                       n_local_trials, max_iter, tol, labels, inertia, n_iter, status,
                       n_threads)
    runs = []
    for run in range(n_init):
        if status[run] == 0:
            runs.append((labels[run], inertia[run], centers[run], int(n_iter[run])))
        else:  # a cluster emptied: the one-pass path relocates it
            with blas_single_threaded():
                runs.append(_kmeans_single(X, sample_weight, centers[run].copy(),
                                           max_iter, 0, tol, n_threads, suffix))
    return runs

"""Gaussian parameters of a mixture from the EM kernel's statistics.

Shared by GaussianMixture and BayesianGaussianMixture: the checks of the
user's initial parameters, the weights, means and covariances from the
statistics of a pass (``_kernels/_em.pyx``), the Cholesky factors of the
precisions, and the arrays the kernel reads. The arithmetic here is on
n_components x n_features^2 values, in float64 whatever the data's dtype.
"""

import math

import numpy as np
from scipy.linalg import lapack
from sklearn.utils import check_array

from ._kernels._em import COVARIANCE_TYPES

__all__ = [
    "check_means",
    "check_precisions",
    "check_weights",
    "gaussian_estimates",
    "kernel_arrays",
    "log_det_cholesky",
    "precision_cholesky",
    "precision_cholesky_from_precisions",
    "precisions_from_cholesky",
    "statistics_buffers",
]

# scikit-learn's message (its ValueError when a covariance cannot be
# factored); ours raises it only where no repair applies.
ILL_DEFINED_MESSAGE = (
    "Fitting the mixture model failed because some components have "
    "ill-defined empirical covariance (for instance caused by singleton "
    "or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)


def _check_shape(param, shape, name):
    if param.shape != tuple(shape):
        raise ValueError(
            f"The parameter '{name}' should have the shape of {tuple(shape)}, "
            f"but got {param.shape}"
        )


def check_weights(weights, n_components):
    """The user's weights_init as an array: shape, range [0, 1], sum 1."""
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got "
            f"max value {np.max(weights):.5f}, min value {np.min(weights):.5f}"
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if abs(1.0 - float(np.sum(weights))) > atol:
        raise ValueError(
            "The parameter 'weights' should be normalized, but got "
            f"sum(weights) = {np.sum(weights):.5f}"
        )
    return weights


def check_means(means, n_components, n_features):
    """The user's means_init as an (n_components, n_features) array."""
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(means, (n_components, n_features), "means")
    return means


def check_precisions(precisions, covariance_type, n_components, n_features):
    """The user's precisions_init: shape, symmetry and positive definiteness."""
    precisions = check_array(
        precisions, dtype=[np.float64, np.float32], ensure_2d=False,
        allow_nd=covariance_type == "full",
    )
    shapes = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }
    name = f"{covariance_type} precision"
    _check_shape(precisions, shapes[covariance_type], name)
    if covariance_type in ("diag", "spherical"):
        if np.any(precisions <= 0.0):
            raise ValueError(f"'{name}' should be positive")
        return precisions
    for matrix in precisions.reshape(-1, n_features, n_features):
        if not (np.allclose(matrix, matrix.T)
                and np.all(np.linalg.eigvalsh(matrix) > 0.0)):
            raise ValueError(f"'{name}' should be symmetric, positive-definite")
    return precisions


def statistics_buffers(n_components, n_features, covariance_type):
    """Zeroed N, S1 and S2 buffers for a kernel pass (see em_pass, _em.pyx)."""
    shape = {"full": (n_components, n_features * n_features),
             "tied": (1, n_features * n_features),
             "diag": (n_components, n_features),
             "spherical": (n_components, n_features)}[covariance_type]
    return (np.zeros(n_components), np.zeros((n_components, n_features)),
            np.zeros(shape))


def _lower_to_symmetric(s2, n_features):
    """Symmetric matrices from the kernel's lower triangles, (K, d*d) -> (K, d, d)."""
    lower = np.tril(s2.reshape(-1, n_features, n_features))
    return lower + np.tril(lower, -1).transpose(0, 2, 1)


def gaussian_estimates(nk, s1, s2, shift, covariance_type, reg_covar, eps,
                       scatter=None):
    """Weights (unnormalised), means and covariances from a pass's statistics.

    nk, s1, s2 : the kernel's sums about ``shift`` (float64).
    eps : 10 * eps is added to every N_k, as scikit-learn does, so that an
        empty component divides by a positive number. The mixtures pass
        float64's epsilon, also for float32 data (the statistics are float64):
        scikit-learn's float32 epsilon biases the tied covariance by about
        1e-6 |mean|^2 / n_samples, a few percent of a unit variance at 1e4
        from the origin.
    scatter : for 'tied' from given responsibilities (the initialisation),
        (mean, T, n_samples) with T the scatter of X about its mean; None
        after an EM pass, whose s2 holds the summed scatter.

    Returns float64 (nk + 10 eps, means, covariances): the covariance about
    the new mean is S2 - S1 delta^T - delta S1^T + N delta delta^T over nk
    (delta the move of the mean), scikit-learn's sum over samples of
    r (x - mean)(x - mean)^T / nk, computed without cancelling squares.
    """
    n_components, n_features = s1.shape
    shift = np.asarray(shift, dtype=np.float64)
    n = nk
    nk = nk + 10 * eps
    means = (s1 + n[:, None] * shift) / nk[:, None]
    delta = means - shift
    if covariance_type == "full":
        s2 = _lower_to_symmetric(s2, n_features)
        cross = s1[:, :, None] * delta[:, None, :]
        covariances = (s2 - cross - cross.transpose(0, 2, 1)
                       + n[:, None, None] * delta[:, :, None] * delta[:, None, :])
        covariances /= nk[:, None, None]
        idx = np.arange(n_features)
        # A variance is a sum of non-negative terms: rounding must not take
        # it below zero (it does where the means barely move against values
        # far larger than their spread, 1e149 constants, say).
        covariances[:, idx, idx] = np.maximum(covariances[:, idx, idx], 0.0) + reg_covar
    elif covariance_type == "tied" and scatter is None:
        # The sum over components of the 'full' covariances' numerators:
        # sum_k sum_i r_ik (x_i - mean_k)(x_i - mean_k)^T.
        s2 = _lower_to_symmetric(s2, n_features)[0]
        cross = s1.T @ delta
        covariances = s2 - cross - cross.T + (n[:, None] * delta).T @ delta
    elif covariance_type == "tied":
        # scikit-learn's (X^T X - sum_k nk mu_k mu_k^T) / sum_k nk, written
        # about the data mean m: X^T X = T + n m m^T, and with e_k = mu_k - m
        # the large m m^T terms cancel exactly, leaving small corrections.
        # Where every sample's responsibilities sum to one it is the sum above;
        # from responsibilities that do not (one seed sample per component)
        # it is not, and scikit-learn's initialisation takes this one.
        data_mean, total_scatter, n_samples = scatter
        offset = means - data_mean
        weighted = nk[:, None] * offset
        total = weighted.sum(axis=0)
        covariances = (total_scatter - offset.T @ weighted
                       - np.outer(data_mean, total) - np.outer(total, data_mean)
                       + (n_samples - nk.sum()) * np.outer(data_mean, data_mean))
    if covariance_type == "tied":
        covariances /= nk.sum()
        # Variances below zero are rounding (see 'full').
        covariances.flat[:: n_features + 1] = (
            np.maximum(covariances.flat[:: n_features + 1], 0.0) + reg_covar)
    elif covariance_type != "full":
        variances = (s2 - 2.0 * s1 * delta + n[:, None] * delta * delta) / nk[:, None]
        # Each variance is a sum of non-negative terms; rounding must not
        # take it below zero.
        np.maximum(variances, 0.0, out=variances)
        variances += reg_covar
        covariances = variances if covariance_type == "diag" else variances.mean(axis=1)
    return nk, means, covariances


def _factor(covariance, floor):
    """Upper-triangular P with P P^T = inverse(covariance), or None where a
    pivot of the Cholesky factorisation is not above floor (rounding noise
    of a zero variance is not a variance).

    LAPACK's potrf and trtri directly: scipy.linalg's checks and wrappers
    cost ten times the arithmetic on these small matrices, for every
    component at every iteration.
    """
    lower, info = lapack.dpotrf(covariance, lower=1, clean=1)
    if info != 0 or not np.all(np.diag(lower) ** 2 > floor):
        return None
    inverse, info = lapack.dtrtri(lower, lower=1)
    if info != 0:
        return None
    return inverse.T


def _rounded(values, dtype):
    """values (float64) rounded to dtype and back, as they will be stored."""
    if dtype is None or np.dtype(dtype) == np.float64:
        return values
    with np.errstate(over="ignore"):
        return values.astype(dtype).astype(np.float64)


def precision_cholesky(covariances, covariance_type, jitter_start, jitter_stop,
                       floor=0.0, dtype=None):
    """Cholesky factors of the precisions, repairing what cannot be factored.

    A covariance that is not positive definite (a pivot or variance not
    above floor) gets jitter added to its diagonal: jitter_start, then ten
    times more each try, up to jitter_stop.
    dtype: the covariances' dtype once stored (the data's). They are rounded
    to it (in place) before they are factored, and so is each jittered
    candidate: a float64 matrix that is barely positive definite (a
    component of two samples in 2-D, say) is often not once rounded to
    float32, and jitter below float32's resolution of the diagonal would be
    rounded away.
    Returns (factors, repairs): float64 factors (None for a component that
    no jitter repaired) and {component: jitter} for the repaired ones;
    'tied' reports its one matrix as component 0.
    """
    repairs = {}
    covariances[...] = _rounded(covariances, dtype)
    finite = bool(np.all(np.isfinite(covariances)))
    if covariance_type == "full" and finite:
        # The common case in one batched call each (per-matrix LAPACK calls
        # cost more in Python than in arithmetic at these sizes); any
        # failure goes through the repairs below.
        try:
            lower = np.linalg.cholesky(covariances)
        except np.linalg.LinAlgError:
            lower = None
        if lower is not None and np.all(
                np.diagonal(lower, axis1=1, axis2=2) ** 2 > floor):
            inverse = np.linalg.inv(lower)
            return list(np.triu(inverse.transpose(0, 2, 1))), repairs
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[None]
        factors = []
        for k, covariance in enumerate(stack):
            factor = _factor(covariance, floor) if finite or np.all(
                np.isfinite(covariance)) else None
            jitter = jitter_start
            # The bounds are finite, so that the loop ends (an infinite
            # jitter_stop would let jitter grow to inf and stay there).
            while (factor is None and jitter <= jitter_stop and np.isfinite(jitter)
                   and np.all(np.isfinite(covariance))):
                candidate = _rounded(covariance + jitter * np.eye(covariance.shape[0]),
                                     dtype)
                factor = _factor(candidate, floor)
                if factor is not None:
                    repairs[k] = jitter
                    stack[k] = candidate
                jitter *= 10.0
            factors.append(factor)
        if covariance_type == "tied":
            return factors[0], repairs
        return factors, repairs
    values = covariances.reshape(len(covariances), -1)
    if finite and np.all(values > floor):
        factors = list(1.0 / np.sqrt(values))
        if covariance_type == "spherical":
            return [f[0] for f in factors], repairs
        return factors, repairs
    factors = []
    for k, row in enumerate(values):
        if np.all(np.isfinite(row)) and np.all(row > floor):
            factors.append(1.0 / np.sqrt(row))
            continue
        jitter = jitter_start
        factor = None
        while (factor is None and jitter <= jitter_stop and np.isfinite(jitter)
               and np.all(np.isfinite(row))):
            candidate = _rounded(row + jitter, dtype)
            if np.all(candidate > floor):
                row[:] = candidate
                repairs[k] = jitter
                factor = 1.0 / np.sqrt(row)
            jitter *= 10.0
        factors.append(factor)
    if covariance_type == "spherical":
        return [None if f is None else f[0] for f in factors], repairs
    return factors, repairs


def precision_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular P with P P^T = precision, from the precisions."""
    precisions = np.asarray(precisions, dtype=np.float64)
    if covariance_type in ("diag", "spherical"):
        return np.sqrt(precisions)
    # The Cholesky factor of the precision with rows and columns reversed,
    # reversed back, is upper triangular with P P^T = precision.
    stack = precisions if covariance_type == "full" else precisions[None]
    factors = np.stack([
        np.linalg.cholesky(p[::-1, ::-1])[::-1, ::-1] for p in stack
    ])
    return factors if covariance_type == "full" else factors[0]


def precisions_from_cholesky(prec_chol, covariance_type):
    """The precisions P P^T (or P^2) from their factors."""
    if covariance_type == "full":
        return prec_chol @ prec_chol.transpose(0, 2, 1)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol ** 2


def covariances_from_precisions(precisions, covariance_type):
    """The covariances of given precisions (their inverses)."""
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(precisions)
    return 1.0 / precisions


def log_det_cholesky(prec_chol, covariance_type, n_features):
    """log det P_k per component (a scalar for 'tied'), in float64."""
    prec_chol = np.asarray(prec_chol, dtype=np.float64)
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


def kernel_arrays(weights, means, prec_chol, covariance_type, dtype):
    """The arrays the kernel reads: means, precision factors, (means - c) @ P_k
    and c, the mixture's mean (see weighted_log_prob_pass, _em.pyx).
    """
    means64 = np.asarray(means, dtype=np.float64)
    n_components, n_features = means64.shape
    weights = np.asarray(weights, dtype=np.float64)
    center = weights @ means64 / max(weights.sum(), np.finfo(np.float64).tiny)
    if not np.all(np.isfinite(center)):
        center = np.zeros(n_features)
    center = center.astype(dtype)
    prec_chol = np.asarray(prec_chol, dtype=dtype)
    offset = (means64 - center.astype(np.float64))
    if covariance_type == "full":
        prec = np.ascontiguousarray(
            prec_chol.transpose(0, 2, 1).reshape(n_components * n_features, n_features))
        mean_prec = np.einsum("kj,kjl->kl", offset, prec_chol.astype(np.float64))
    elif covariance_type == "tied":
        prec = np.ascontiguousarray(prec_chol.T)
        mean_prec = offset @ prec_chol.astype(np.float64)
    elif covariance_type == "diag":
        prec = np.ascontiguousarray(prec_chol)
        mean_prec = means64
    else:
        prec = np.ascontiguousarray(prec_chol.reshape(n_components, 1))
        mean_prec = means64
    return (np.ascontiguousarray(means, dtype=dtype), prec,
            np.ascontiguousarray(mean_prec, dtype=dtype), center,
            COVARIANCE_TYPES[covariance_type])


def log_gaussian_constant(prec_chol, covariance_type, n_features):
    """log det P_k - n_features log(2 pi) / 2, per component (float64)."""
    return (log_det_cholesky(prec_chol, covariance_type, n_features)
            - 0.5 * n_features * math.log(2 * math.pi))

"""TEMPORARY stand-in for turbocluster._kernels._linkage (branch agglo-kernels),
with the same signatures, built on scipy.cluster.hierarchy. To be removed
once the kernels are merged: nothing may depend on it being here."""

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

_SCIPY_METRIC = {"euclidean": "euclidean", "manhattan": "cityblock", "cosine": "cosine"}


def _merges_from_z(Z, n_samples):
    rep = np.arange(2 * n_samples - 1, dtype=np.intp)
    a = np.empty(n_samples - 1, dtype=np.intp)
    b = np.empty(n_samples - 1, dtype=np.intp)
    for k in range(n_samples - 1):
        a[k] = rep[int(Z[k, 0])]
        b[k] = rep[int(Z[k, 1])]
        rep[n_samples + k] = a[k]
    return a, b, Z[:, 2].astype(np.float64)


def pairwise_condensed(X, metric, n_threads):
    return pdist(np.asarray(X, dtype=np.float64), _SCIPY_METRIC[metric]).astype(X.dtype)


def single_linkage(X, metric, n_threads):
    Z = hierarchy.linkage(pdist(np.asarray(X, dtype=np.float64), _SCIPY_METRIC[metric]),
                          "single")
    return _merges_from_z(Z, X.shape[0])


def single_linkage_precomputed(D):
    n = D.shape[0]
    i, j = np.triu_indices(n, k=1)
    Z = hierarchy.linkage(np.asarray(D, dtype=np.float64)[i, j], "single")
    return _merges_from_z(Z, n)


def ward_linkage(X, n_threads):
    Z = hierarchy.ward(np.asarray(X, dtype=np.float64))
    return _merges_from_z(Z, X.shape[0])


def matrix_linkage(D, method):
    D = np.asarray(D, dtype=np.float64)
    n = int(round((1 + np.sqrt(1 + 8 * D.shape[0])) / 2))
    Z = hierarchy.linkage(D, method)
    return _merges_from_z(Z, n)


def linkage_from_merges(a, b, height, n_samples):
    order = np.argsort(height, kind="mergesort")
    parent = np.arange(2 * n_samples - 1, dtype=np.intp)
    size = np.ones(2 * n_samples - 1, dtype=np.intp)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    Z = np.empty((n_samples - 1, 4))
    for k, m in enumerate(order):
        x, y = find(a[m]), find(b[m])
        x, y = min(x, y), max(x, y)
        Z[k] = x, y, height[m], size[x] + size[y]
        parent[x] = parent[y] = n_samples + k
        size[n_samples + k] = size[x] + size[y]
    return Z

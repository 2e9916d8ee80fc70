"""turbocluster.dask.KMeans against dask-ml's KMeans on a LocalCluster.

Usage: python benchmarks/dask_kmeans.py [--n-samples N] [--max-iter N]
       [--dask-ml-init-max-iter N] [--no-dask-ml] [--quick]

The data: N x 32 float32 Gaussian blobs about 64 centres (unit variance,
centres uniform in [-10, 10]^32), generated on the workers in 250,000-row
blocks and persisted there before either fit. The cluster: a LocalCluster of
2 single-threaded worker processes. Both sides fit
``KMeans(n_clusters=64, max_iter=..., tol=0, random_state=0)`` on the same
persisted array; dask-ml's with ``init_max_iter`` rounds of k-means||
(default 2, as in the issue's reference run; its own default runs many more).

Reported per side: wall time of ``fit``, the inertia of its centers (both
computed by the same code: dask-ml's ``inertia_`` is not the same sum), the
distinct clusters of its labels, and the client's peak resident memory above its level before the
fit (the scheduler runs in the client process too). Ours is also fitted on
a quarter of the data, to show that the client's memory does not grow with
n_samples. dask-ml is optional: without it only our side runs.
"""

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _dask_common import blobs, local_cluster, timed  # noqa: E402


def inertia_of(X, centers):
    """Sum of squared distances of X to its nearest center, computed the
    same way for both sides (on the workers, float64 sums): dask-ml's own
    ``inertia_`` is not comparable."""
    from turbocluster.dask import KMeans

    model = KMeans(n_clusters=centers.shape[0], init=centers)
    model.cluster_centers_ = np.asarray(centers, dtype=X.dtype)
    model.n_features_in_ = X.shape[1]
    model._n_init, model._n_features_out = 1, centers.shape[0]
    return -model.score(X)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=8_000_000)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--dask-ml-init-max-iter", type=int, default=2)
    parser.add_argument("--no-dask-ml", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="200,000 samples in 50,000-row blocks")
    args = parser.parse_args(argv)
    n_samples, chunk = args.n_samples, 250_000
    if args.quick:
        n_samples, chunk = 200_000, 50_000

    from distributed import wait

    from turbocluster.dask import KMeans

    try:
        import dask_ml.cluster
    except ImportError:
        dask_ml = None
        print("dask-ml is not installed: only turbocluster.dask runs "
              "(pip install dask-ml for the comparison).")

    cluster, client = local_cluster()
    rows = []
    try:
        for n in (n_samples // 4, n_samples):
            X = blobs(n, 32, 64, chunk).persist()
            wait(X)
            model = KMeans(n_clusters=64, max_iter=args.max_iter, tol=0, random_state=0)
            model, seconds, mib = timed(lambda: model.fit(X))
            rows.append(("turbocluster.dask", n, seconds,
                         inertia_of(X, model.cluster_centers_),
                         len(np.unique(model.labels_.compute())), mib))
            print(rows[-1], flush=True)
            if n == n_samples and dask_ml is not None and not args.no_dask_ml:
                theirs = dask_ml.cluster.KMeans(
                    n_clusters=64, max_iter=args.max_iter, tol=0, random_state=0,
                    init_max_iter=args.dask_ml_init_max_iter)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    theirs, seconds, mib = timed(lambda: theirs.fit(X))
                rows.append(("dask-ml", n, seconds,
                             inertia_of(X, theirs.cluster_centers_),
                             len(np.unique(np.asarray(theirs.labels_))), mib))
                print(rows[-1], flush=True)
            del X
    finally:
        client.close()
        cluster.close()

    print(f"\nKMeans(n_clusters=64, max_iter={args.max_iter}, tol=0), 32 float32 "
          f"features, {chunk:,}-row blocks, LocalCluster of 2 single-threaded workers")
    print(f"{'side':<18} {'n_samples':>11} {'fit s':>8} {'inertia':>14} "
          f"{'clusters':>8} {'client peak MiB':>16}")
    for side, n, seconds, inertia, n_clusters, mib in rows:
        print(f"{side:<18} {n:>11,} {seconds:>8.2f} {inertia:>14.6g} {n_clusters:>8} "
              f"{mib:>16.1f}")
    ours = [r for r in rows if r[0] == "turbocluster.dask" and r[1] == n_samples]
    theirs = [r for r in rows if r[0] == "dask-ml"]
    if ours and theirs:
        print(f"speed-up over dask-ml: {theirs[0][2] / ours[0][2]:.1f}x; inertia "
              f"ratio (dask-ml / ours): {theirs[0][3] / ours[0][3]:.4f}")
    return rows


if __name__ == "__main__":
    main()

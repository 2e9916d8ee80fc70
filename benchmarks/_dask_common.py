"""What the two Dask benchmarks share: the cluster, the data generated on
the workers, and the client's peak memory during a call."""

import threading
import time

import numpy as np


def local_cluster(n_workers=2):
    """A LocalCluster of n_workers single-threaded worker processes."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return cluster, Client(cluster)


def _blob_block(block_id, chunk, n_samples, centers, seed, out_dtype):
    start = block_id[0] * chunk
    n_rows = min(chunk, n_samples - start)
    rng = np.random.default_rng((seed, block_id[0]))
    labels = rng.integers(0, centers.shape[0], n_rows)
    X = rng.standard_normal((n_rows, centers.shape[1]), dtype=np.float32)
    return (X + centers[labels]).astype(out_dtype, copy=False)


def blobs(n_samples, n_features, n_centers, chunk, seed=0, dtype=np.float32, spread=10.0):
    """Gaussian blobs of unit variance about n_centers centres drawn in
    [-spread, spread]^n_features, generated block by block on the workers
    (a generator seeded by (seed, block)): a lazy dask array."""
    import dask.array as da

    centers = np.random.default_rng(seed).uniform(
        -spread, spread, (n_centers, n_features)).astype(np.float32)
    chunks = ((chunk,) * (n_samples // chunk)
              + ((n_samples % chunk,) if n_samples % chunk else ()), (n_features,))
    return da.map_blocks(_blob_block, chunk=chunk, n_samples=n_samples, centers=centers,
                         seed=seed, out_dtype=np.dtype(dtype), dtype=np.dtype(dtype),
                         chunks=chunks,
                         meta=np.empty((0, 0), dtype=dtype))


class PeakMemory:
    """Peak resident memory of this process above its level at entry, in
    MiB, sampled every 20 ms in a thread (the client; with a LocalCluster
    the scheduler lives here too)."""

    def __enter__(self):
        import psutil

        self._process = psutil.Process()
        self.base = self._process.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        self.mib = (self.peak - self.base) / 2**20


def timed(fn):
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return result, seconds, memory.mib

"""Scale-out on Dask: KMeans, MiniBatchKMeans and GaussianMixture for
``dask.array.Array`` and ``dask.dataframe.DataFrame`` input.

Every pass over the samples runs on the workers, one kernel call per block;
the client holds only the model. ``to_local()`` turns a fitted estimator into
the in-memory one. Needs ``pip install "turbocluster[dask]"``.
"""

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
    import dask.dataframe  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "turbocluster.dask needs Dask (dask.array and dask.dataframe): "
        "pip install 'turbocluster[dask]'"
    ) from error

from ._kmeans import KMeans
from ._minibatch import MiniBatchKMeans
from ._mixture import GaussianMixture

__all__ = ["GaussianMixture", "KMeans", "MiniBatchKMeans"]

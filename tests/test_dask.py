"""turbocluster.dask on a real distributed.LocalCluster (2 worker processes,
1 thread each): agreement with the in-memory estimators, any block layout,
float32, dask DataFrames, conversion, and a worker lost during a fit.

Tolerances: from the same initial parameters the distributed fit differs
from the in-memory one only in the order in which float64 partial sums are
added (blocks on a tree vs chunks in order), so float64 results agree to
1e-10 relative; float32 centers to float32 rounding of the same means.
"""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import dask  # noqa: E402

import turbocluster  # noqa: E402
from turbocluster import dask as tcd  # noqa: E402

# Blocks of every awkward kind: empty ones, one with fewer samples than
# clusters, uneven sizes.
UNEVEN = (0, 3, 700, 0, 1, 950, 1346)
N_SAMPLES = sum(UNEVEN)


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=N_SAMPLES, centers=6, n_features=5, cluster_std=2.0,
                      random_state=0)
    return X


def _init(X, k=6):
    return X[np.random.RandomState(1).choice(X.shape[0], k, replace=False)]


def _uneven(X):
    return da.from_array(X, chunks=(UNEVEN, X.shape[1]))


@pytest.mark.parametrize("copy_x", [True, False])
def test_kmeans_equals_in_memory_from_the_same_init(client, data, copy_x):
    init = _init(data)
    weights = np.random.RandomState(2).uniform(0.5, 2, N_SAMPLES)
    ours = tcd.KMeans(6, init=init, tol=1e-6, copy_x=copy_x).fit(
        _uneven(data), sample_weight=da.from_array(weights, chunks=500))
    ref = turbocluster.KMeans(6, init=init, tol=1e-6, copy_x=copy_x).fit(
        data, sample_weight=weights)
    assert isinstance(ours.labels_, da.Array)
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    assert ours.n_iter_ == ref.n_iter_


def test_kmeans_relocates_empty_clusters_as_in_memory(client, data):
    # Two identical initial centers: one cluster is empty after the first
    # assignment and takes the farthest sample, here as in memory.
    init = _init(data)
    init[1] = init[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = tcd.KMeans(6, init=init, max_iter=50).fit(_uneven(data))
        ref = turbocluster.KMeans(6, init=init, max_iter=50).fit(data)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)


def test_kmeans_float32(client, data):
    X = data.astype(np.float32)
    init = _init(X)
    ours = tcd.KMeans(6, init=init).fit(_uneven(X))
    ref = turbocluster.KMeans(6, init=init).fit(X)
    assert ours.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5,
                               atol=1e-5)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)
    assert ours.transform(_uneven(X)).dtype == np.float32


def test_kmeans_parallel_init_finds_the_blobs(client):
    X, y = make_blobs(n_samples=6000, centers=20, n_features=4, cluster_std=0.3,
                      center_box=(-40, 40), random_state=3)
    ours = tcd.KMeans(20, random_state=0).fit(da.from_array(X, chunks=1000))
    ref = turbocluster.KMeans(20, n_init=5, random_state=0).fit(X)
    assert len(np.unique(ours.labels_.compute())) == 20
    assert ours.inertia_ <= ref.inertia_ * (1 + 1e-9)


def test_same_result_whatever_the_workers(client, data):
    """Two worker processes, or Dask's single-threaded scheduler: the same bits."""
    Xd = _uneven(data)
    on_cluster = tcd.KMeans(6, random_state=7).fit(Xd)
    gm_cluster = tcd.GaussianMixture(3, random_state=7, max_iter=5).fit(Xd)
    with dask.config.set(scheduler="sync"):
        local = tcd.KMeans(6, random_state=7).fit(Xd)
        gm_local = tcd.GaussianMixture(3, random_state=7, max_iter=5).fit(Xd)
    np.testing.assert_array_equal(on_cluster.cluster_centers_, local.cluster_centers_)
    assert on_cluster.inertia_ == local.inertia_
    np.testing.assert_array_equal(gm_cluster.means_, gm_local.means_)
    np.testing.assert_array_equal(gm_cluster.covariances_, gm_local.covariances_)


def test_default_scheduler_and_numpy_input(data):
    """No distributed client: Dask's default (threaded) scheduler; NumPy in,
    NumPy out."""
    init = _init(data)
    with dask.config.set(scheduler="threads"):
        ours = tcd.KMeans(6, init=init).fit(data)
        labels = ours.predict(data)
    ref = turbocluster.KMeans(6, init=init).fit(data)
    assert isinstance(labels, np.ndarray)
    np.testing.assert_array_equal(labels, ref.predict(data))
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)


def test_predict_transform_score_are_lazy_and_agree(client, data):
    Xd = _uneven(data)
    ours = tcd.KMeans(6, random_state=0).fit(Xd)
    local = ours.to_local()
    labels, distances = ours.predict(Xd), ours.transform(Xd)
    assert isinstance(labels, da.Array) and isinstance(distances, da.Array)
    np.testing.assert_array_equal(labels.compute(), local.predict(data))
    np.testing.assert_allclose(distances.compute(), local.transform(data), rtol=1e-12)
    assert ours.score(Xd) == pytest.approx(local.score(data), rel=1e-10)
    np.testing.assert_array_equal(ours.fit_predict(Xd).compute(),
                                  ours.labels_.compute())


def test_to_local_pickles_and_keeps_attributes(client, data):
    ours = tcd.KMeans(6, random_state=0).fit(_uneven(data))
    local = pickle.loads(pickle.dumps(ours.to_local()))
    assert type(local) is turbocluster.KMeans
    np.testing.assert_array_equal(local.cluster_centers_, ours.cluster_centers_)
    np.testing.assert_array_equal(local.labels_, ours.labels_.compute())
    assert (local.inertia_, local.n_iter_, local.n_features_in_) == (
        ours.inertia_, ours.n_iter_, ours.n_features_in_)
    np.testing.assert_array_equal(local.predict(data), local.labels_)


def test_dask_dataframe_input(client, data):
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(data.shape[1])])
    ddf = dd.from_pandas(frame, npartitions=3)
    init = _init(data)
    ours = tcd.KMeans(6, init=init).fit(ddf)
    ref = turbocluster.KMeans(6, init=init).fit(data)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert list(ours.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(ours.predict(ddf).compute(), ref.labels_)
    gm = tcd.GaussianMixture(2, random_state=0).fit(ddf)
    assert gm.predict_proba(ddf).compute().shape == (N_SAMPLES, 2)
    with pytest.raises(ValueError, match="numeric"):
        tcd.KMeans(2).fit(dd.from_pandas(frame.assign(name="a"), npartitions=2))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_mixture_equals_in_memory_from_the_same_init(client, data,
                                                              covariance_type):
    start = turbocluster.GaussianMixture(3, covariance_type=covariance_type,
                                         max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start.fit(data)
    params = dict(n_components=3, covariance_type=covariance_type, max_iter=15, tol=0,
                  weights_init=start.weights_, means_init=start.means_,
                  precisions_init=start.precisions_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = tcd.GaussianMixture(**params).fit(_uneven(data))
        ref = turbocluster.GaussianMixture(**params).fit(data)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-10)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gaussian_mixture_fit_predict_and_conversion(client, data):
    Xd = _uneven(data.astype(np.float32))
    ours = tcd.GaussianMixture(6, random_state=0)
    labels = ours.fit_predict(Xd)
    assert isinstance(labels, da.Array)
    assert ours.means_.dtype == np.float32
    local = pickle.loads(pickle.dumps(ours.to_local()))
    assert type(local) is turbocluster.GaussianMixture
    X32 = data.astype(np.float32)
    np.testing.assert_array_equal(labels.compute(), local.predict(X32))
    for method in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(ours, method)(Xd)
        assert isinstance(lazy, da.Array)
        # float32 densities: the kernel's rounding differs with the block's
        # place in memory (its SIMD path), by float32 rounding.
        np.testing.assert_allclose(lazy.compute(), getattr(local, method)(X32),
                                   rtol=1e-4, atol=1e-6)
    # A good fit: the in-memory estimator's likelihood, to a few percent.
    ref = turbocluster.GaussianMixture(6, random_state=0).fit(X32)
    assert ours.score(Xd) == pytest.approx(ref.score(X32), rel=0.05)
    random = tcd.GaussianMixture(3, init_params="random", random_state=0,
                                 max_iter=3).fit(Xd)
    assert np.isfinite(random.lower_bound_)


@pytest.mark.parametrize("init", ["array", "k-means++"])
def test_minibatch_equals_in_memory(client, data, init):
    init = _init(data) if init == "array" else init
    params = dict(n_clusters=6, init=init, batch_size=256, random_state=0)
    ours = tcd.MiniBatchKMeans(**params).fit(_uneven(data))
    ref = turbocluster.MiniBatchKMeans(**params).fit(data)
    assert ours.n_steps_ == ref.n_steps_
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)
    local = ours.to_local()
    assert type(local) is turbocluster.MiniBatchKMeans
    np.testing.assert_array_equal(ours.predict(_uneven(data)).compute(),
                                  local.predict(data))


# The samples travel in the graph (from_array): Dask warns of a large graph.
@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")
def test_worker_killed_during_fit(client):
    """A worker process killed in the middle of a fit: the fit ends with the
    right answer (Dask recomputes what was lost) or raises; never a wrong
    answer."""
    X, _ = make_blobs(n_samples=200_000, centers=30, n_features=8, cluster_std=4.0,
                      random_state=5)
    Xd = da.from_array(X, chunks=25_000)
    params = dict(n_clusters=30, init=X[:30].copy(), max_iter=60, tol=0)
    ref = turbocluster.KMeans(**params).fit(X)
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    killed_at = []

    def kill():
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        killed_at.append(time.monotonic())

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        ours = tcd.KMeans(**params).fit(Xd)
    except Exception as error:  # a clear error is acceptable
        assert str(error)
        ours = None
        print("the fit raised:", repr(error))
    ended_at = time.monotonic()
    killer.join()
    assert killed_at and killed_at[0] < ended_at  # killed during the fit
    if ours is not None:
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_,
                                   rtol=1e-10)
        assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    client.wait_for_workers(2, timeout=60)


def test_import_without_dask_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "import turbocluster\n"
        "turbocluster.KMeans(2).fit([[0.0], [1.0], [2.0]])\n"
        "try:\n"
        "    import turbocluster.dask\n"
        "except ImportError as error:\n"
        "    assert 'turbocluster[dask]' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('imported without dask')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

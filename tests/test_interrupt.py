"""Ctrl-C stops a long fit, leaves the estimator as it was, and the process
goes on.

Each test sends this process a real SIGINT from a timer thread while a fit
that would run for a long time is under way. Python's handler raises
KeyboardInterrupt in the main thread, between two kernel calls, or inside
the long linkage kernels at their next poll (_kernels/_interrupt.pxd). The
fits are sized to take many seconds uninterrupted, so a stop that does not
work fails the test (the fit returns) instead of passing by luck.
"""

import os
import signal
import threading
from contextlib import contextmanager

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import turbocluster as tc

pytestmark = [
    pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                       reason="signals reach the main thread only"),
    # The short refits after the interruption stop at max_iter=5.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

DELAY = 0.3  # seconds from the start of the call to SIGINT


@contextmanager
def sigint_after(delay):
    """Send this process SIGINT after `delay` seconds, with Python's default
    handler (KeyboardInterrupt) installed meanwhile."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, previous)


def _blobs(n_samples, n_features, centers=10, seed=0):
    return make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=2.0, random_state=seed)[0]


# Each: (estimator, data) whose fit takes tens of seconds or more here.
LONG_FITS = {
    "KMeans-lloyd": lambda: (tc.KMeans(50, n_init=10_000, tol=0, random_state=0),
                             _blobs(20_000, 8)),
    "KMeans-elkan": lambda: (tc.KMeans(50, algorithm="elkan", n_init=10_000, tol=0,
                                       random_state=0), _blobs(20_000, 8)),
    "KMeans-sparse": lambda: (tc.KMeans(20, n_init=10_000, random_state=0),
                              sp.random(20_000, 100, density=0.05, format="csr",
                                        random_state=0)),
    "MiniBatchKMeans": lambda: (tc.MiniBatchKMeans(50, max_iter=100_000, tol=0,
                                                   max_no_improvement=None, random_state=0),
                                _blobs(50_000, 8)),
    "GaussianMixture": lambda: (tc.GaussianMixture(20, max_iter=100_000, tol=0,
                                                   random_state=0), _blobs(20_000, 8)),
    "BayesianGaussianMixture": lambda: (tc.BayesianGaussianMixture(
        n_components=20, max_iter=100_000, tol=0, random_state=0), _blobs(20_000, 8)),
    "GaussianMixtureAnomalyDetector": lambda: (tc.GaussianMixtureAnomalyDetector(
        n_components=20, max_iter=100_000, tol=0, random_state=0), _blobs(20_000, 8)),
    # Three passes of about a second each here, O(n) memory: stopped
    # between two passes.
    "DBSCAN": lambda: (tc.DBSCAN(eps=3.0, min_samples=20), _blobs(300_000, 10)),
    # One kernel call for the whole tree: stopped inside it.
    "AgglomerativeClustering-ward": lambda: (tc.AgglomerativeClustering(linkage="ward"),
                                             _blobs(60_000, 16)),
    "AgglomerativeClustering-single": lambda: (tc.AgglomerativeClustering(linkage="single"),
                                               _blobs(60_000, 16)),
    # 14,000 samples in float32: a 390 MB condensed matrix.
    "AgglomerativeClustering-average": lambda: (tc.AgglomerativeClustering(
        linkage="average"), _blobs(14_000, 16).astype(np.float32)),
}


@pytest.mark.parametrize("name", LONG_FITS)
def test_interrupted_fit_leaves_the_estimator_unfitted(name):
    estimator, X = LONG_FITS[name]()
    with pytest.raises(KeyboardInterrupt), sigint_after(DELAY):
        estimator.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
    assert [key for key in vars(estimator) if key.endswith("_")] == []
    # The instance still works: a short fit of it equals a fresh one's.
    small = X[:600]
    short = dict(max_iter=5) if "max_iter" in estimator.get_params() else {}
    if "n_init" in estimator.get_params():
        short["n_init"] = 1
    estimator.set_params(**short)
    fresh = clone(estimator).fit(small)
    estimator.fit(small)
    labels = getattr(estimator, "labels_", None)
    if labels is None:
        labels = estimator.predict(small)
        assert_array_equal(labels, fresh.predict(small))
    else:
        assert_array_equal(labels, fresh.labels_)


def test_interrupted_refit_keeps_the_previous_model():
    X = _blobs(20_000, 8)
    model = tc.GaussianMixture(20, max_iter=5, random_state=0).fit(X[:2000])
    before = {key: value.copy() for key, value in vars(model).items()
              if key.endswith("_") and isinstance(value, np.ndarray)}
    model.set_params(max_iter=100_000, tol=0)
    with pytest.raises(KeyboardInterrupt), sigint_after(DELAY):
        model.fit(X)
    for key, value in before.items():
        assert_array_equal(getattr(model, key), value)
    assert model.n_iter_ == 5


def test_interrupted_partial_fit_undoes_its_in_place_updates(monkeypatch):
    # partial_fit moves the centers and counts in place; a KeyboardInterrupt
    # after the move (here: from the labels pass that follows) must put them
    # back, and leave the random generator where it was.
    X = _blobs(5000, 4)
    model = tc.MiniBatchKMeans(8, random_state=0).partial_fit(X[:1000])
    centers, counts = model.cluster_centers_.copy(), model.counts_.copy()
    draws = model._random_state.get_state()[1].copy()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "_labels_inertia", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X[1000:2000])
    assert_array_equal(model.cluster_centers_, centers)
    assert_array_equal(model.counts_, counts)
    assert_array_equal(model._random_state.get_state()[1], draws)
    assert model.n_steps_ == 1
    monkeypatch.undo()
    # The next step is the one an uninterrupted run takes.
    expected = tc.MiniBatchKMeans(8, random_state=0).partial_fit(X[:1000])
    expected.partial_fit(X[1000:2000])
    model.partial_fit(X[1000:2000])
    assert_array_equal(model.cluster_centers_, expected.cluster_centers_)


@pytest.mark.parametrize("name", ["silhouette_samples", "select_n_clusters",
                                  "kmeans_plusplus"])
def test_interrupted_functions(name):
    X = _blobs(40_000, 16)
    calls = {
        # O(n^2): tens of seconds, in slabs of rows.
        "silhouette_samples": lambda: tc.silhouette_samples(X, np.arange(len(X)) % 7),
        "select_n_clusters": lambda: tc.select_n_clusters(X, range(2, 200)),
        "kmeans_plusplus": lambda: tc.kmeans_plusplus(X, 20_000, random_state=0),
    }
    with pytest.raises(KeyboardInterrupt), sigint_after(DELAY):
        calls[name]()
    # The process goes on, and the function with it.
    assert tc.silhouette_score(X[:300], np.arange(300) % 3) < 0.5


def test_interrupted_linkage_kernel_frees_and_reruns():
    # The kernel stops at a poll, frees its buffers and raises; the same
    # call then runs to the end with the same answer as before.
    from turbocluster._kernels import _linkage

    X = np.ascontiguousarray(_blobs(60_000, 16))
    with pytest.raises(KeyboardInterrupt), sigint_after(DELAY):
        _linkage.ward_linkage(X, 2)
    small = np.ascontiguousarray(X[:500])
    first = _linkage.ward_linkage(small, 2)
    second = _linkage.ward_linkage(small, 1)
    for a, b in zip(first, second):
        assert_array_equal(a, b)

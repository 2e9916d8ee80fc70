"""GaussianMixtureAnomalyDetector: the density threshold and the outlier API."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from turbocluster import GaussianMixture, GaussianMixtureAnomalyDetector


def _data(dtype=np.float64):
    # Three blobs and ten far-away points, scattered in every direction (a
    # tight group of them would be a cluster of its own for the mixture).
    X, _ = make_blobs(n_samples=990, n_features=3, centers=3, random_state=0)
    directions = np.random.RandomState(1).normal(size=(10, 3))
    far = 40 * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    return np.vstack([X, far]).astype(dtype)


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.2])
def test_threshold_is_the_training_quantile(contamination):
    # The threshold is the contamination quantile of the training
    # log-densities, so fit_predict flags that fraction (no ties here).
    X = _data()
    detector = GaussianMixtureAnomalyDetector(3, contamination=contamination,
                                              random_state=0)
    flags = detector.fit_predict(X)
    log_density = detector.score_samples(X)
    assert detector.offset_ == pytest.approx(
        np.percentile(log_density, 100 * contamination))
    assert np.sum(flags == -1) == pytest.approx(contamination * len(X), abs=1)
    assert_array_equal(flags, detector.predict(X))


def test_far_points_are_the_outliers():
    # The ten planted points have the lowest densities: with contamination
    # 0.01 they are exactly the outliers.
    X = _data()
    flags = GaussianMixtureAnomalyDetector(3, contamination=0.01,
                                           random_state=0).fit_predict(X)
    assert_array_equal(np.flatnonzero(flags == -1), np.arange(990, 1000))


def test_auto_is_the_recipes_four_percent():
    X = _data()
    auto = GaussianMixtureAnomalyDetector(3, random_state=0).fit(X)
    four = GaussianMixtureAnomalyDetector(3, contamination=0.04, random_state=0).fit(X)
    assert auto.offset_ == four.offset_


def test_decision_function_and_predict_agree():
    X = _data()
    detector = GaussianMixtureAnomalyDetector(3, contamination=0.05,
                                              random_state=0).fit(X)
    new = np.array([[0.0, 0.0, 0.0], [100.0, 100.0, 100.0]])
    scores = detector.decision_function(new)
    assert_allclose(scores, detector.score_samples(new) - detector.offset_)
    assert_array_equal(detector.predict(new), np.where(scores < 0, -1, 1))
    assert detector.predict(new)[1] == -1


def test_the_mixture_is_the_gaussian_mixtures():
    # Same parameters, same fit: the detector is a GaussianMixture with a
    # threshold, and keeps its other methods.
    X = _data()
    detector = GaussianMixtureAnomalyDetector(3, covariance_type="diag",
                                              random_state=0).fit(X)
    mixture = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert_array_equal(getattr(detector, name), getattr(mixture, name))
    assert detector.lower_bound_ == mixture.lower_bound_
    assert_array_equal(detector.predict_proba(X[:5]), mixture.predict_proba(X[:5]))
    assert detector.bic(X) == mixture.bic(X)


def test_float32_is_kept():
    X = _data(np.float32)
    detector = GaussianMixtureAnomalyDetector(3, random_state=0).fit(X)
    assert detector.means_.dtype == np.float32
    assert detector.decision_function(X).dtype == np.float32
    assert detector.predict(X).dtype.kind == "i"


@pytest.mark.parametrize("contamination", [0.0, -0.1, 0.6, "most"])
def test_contamination_out_of_range(contamination):
    with pytest.raises(InvalidParameterError, match="contamination"):
        GaussianMixtureAnomalyDetector(contamination=contamination).fit(_data())


def test_unfitted_detector_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GaussianMixtureAnomalyDetector().predict(_data())


def test_clone_pickle_and_pipeline():
    X = _data()
    detector = GaussianMixtureAnomalyDetector(3, contamination=0.02, random_state=0)
    fitted = clone(detector).fit(X)
    again = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(again.predict(X), fitted.predict(X))
    assert again.offset_ == fitted.offset_
    pipe = make_pipeline(StandardScaler(), clone(detector)).fit(X)
    assert np.sum(pipe.predict(X) == -1) == pytest.approx(0.02 * len(X), abs=1)

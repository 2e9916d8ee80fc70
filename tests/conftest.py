"""Fixtures shared by the command-line tests (test_cli.py, test_cli_mixture.py),
and the hypothesis profiles of the property tests.

Hypothesis profiles: "ci" (the default) runs 30 examples per property test,
derandomized so that every run tries the same ones; "thorough" runs 500 fresh
random examples per test. Choose with ``HYPOTHESIS_PROFILE=thorough``.
"""

import os

import pytest
import sklearn.datasets
from hypothesis import HealthCheck, settings
from sklearn.datasets import make_blobs

# Fitting on generated data is slow by hypothesis's measure, and the data
# strategies draw large examples on purpose.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large,
                 HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=_SLOW_IS_FINE, print_blob=True)
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=_SLOW_IS_FINE, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# The test modules that use blobs assert on its size under these same names.
N_SAMPLES = 60
N_CLUSTERS = 3


@pytest.fixture(scope="module")
def blobs():
    # Well separated blobs: any correct K-means recovers them exactly.
    X, y = make_blobs(
        n_samples=N_SAMPLES, centers=N_CLUSTERS, n_features=2, cluster_std=0.5,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def wine_frame():
    return sklearn.datasets.load_wine(as_frame=True).frame

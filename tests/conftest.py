"""Fixtures shared by the command-line tests (test_cli.py, test_cli_mixture.py)."""

import pytest
import sklearn.datasets
from sklearn.datasets import make_blobs

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

"""scikit-learn's estimator checks, and the private scikit-learn names we rely on."""

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from turbocluster import (
    DBSCAN,
    AgglomerativeClustering,
    BayesianGaussianMixture,
    GaussianMixture,
    GaussianMixtureAnomalyDetector,
    KMeans,
    MiniBatchKMeans,
)

# What scikit-learn 1.9.1 itself expects sklearn.cluster.KMeans to fail
# (PER_ESTIMATOR_XFAIL_CHECKS[KMeans] in
# sklearn/utils/_test_common/instance_generator.py), copied verbatim: these
# and nothing else may fail. k-means from a random seeding is not exactly
# invariant to repeating a sample instead of doubling its weight, because the
# seeding draws from a different distribution over rows.
KMEANS_EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, KMeans):
        return KMEANS_EXPECTED_FAILED_CHECKS
    return {}


@parametrize_with_checks(
    [
        KMeans(),
        KMeans(algorithm="elkan"),
        KMeans(init="random", n_init=2, algorithm="elkan"),
        MiniBatchKMeans(),
        MiniBatchKMeans(init="random", batch_size=16),
        GaussianMixture(),
        GaussianMixture(covariance_type="diag", init_params="random_from_data"),
        GaussianMixture(covariance_type="tied", n_components=2),
        GaussianMixtureAnomalyDetector(),
        GaussianMixtureAnomalyDetector(contamination=0.1, covariance_type="spherical"),
        BayesianGaussianMixture(),
        BayesianGaussianMixture(covariance_type="diag"),
        DBSCAN(),
        AgglomerativeClustering(),
        AgglomerativeClustering(linkage="single"),
        AgglomerativeClustering(linkage="average", metric="manhattan"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_expected_failed_checks_match_scikit_learn():
    # Our exception list must be exactly scikit-learn's for its own KMeans:
    # fails when scikit-learn fixes (or adds) an expected failure, so the
    # list above never silently lets a regression through.
    from sklearn.cluster import KMeans as SkKMeans
    from sklearn.utils._test_common.instance_generator import (
        _get_expected_failed_checks,
    )

    assert set(_get_expected_failed_checks(SkKMeans())) == set(
        KMEANS_EXPECTED_FAILED_CHECKS
    )
    # scikit-learn expects its BayesianGaussianMixture to pass every check,
    # so ours has no exception either.
    from sklearn.mixture import BayesianGaussianMixture as SkBayesianGaussianMixture

    assert _get_expected_failed_checks(SkBayesianGaussianMixture()) == {}


def test_private_sklearn_names_we_rely_on():
    # src/_validation.py imports these private names; if scikit-learn moves or
    # renames them this test fails loudly, before users hit an ImportError.
    from sklearn.utils._param_validation import (
        Interval,
        StrOptions,
        validate_parameter_constraints,
    )

    assert callable(validate_parameter_constraints)
    assert callable(getattr(BaseEstimator, "_validate_params", None))

    # And they still behave as our constraint tables expect.
    from numbers import Integral

    validate_parameter_constraints(
        {"n": [Interval(Integral, 1, None, closed="left")],
         "s": [StrOptions({"a", "b"})]},
        {"n": 3, "s": "a"},
        caller_name="f",
    )
    with pytest.raises(ValueError, match="The 'n' parameter of f must be"):
        validate_parameter_constraints(
            {"n": [Interval(Integral, 1, None, closed="left")]},
            {"n": 0},
            caller_name="f",
        )
    with pytest.raises(ValueError, match="The 's' parameter of f must be"):
        validate_parameter_constraints(
            {"s": [StrOptions({"a", "b"})]}, {"s": "c"}, caller_name="f"
        )


def test_validation_module_uses_those_names():
    # The constraint types KMeans declares are scikit-learn's own classes, so
    # BaseEstimator._validate_params understands them.
    from sklearn.utils import _param_validation

    from turbocluster import _validation

    assert _validation.Interval is _param_validation.Interval
    assert _validation.StrOptions is _param_validation.StrOptions
    assert (_validation.validate_parameter_constraints
            is _param_validation.validate_parameter_constraints)
    with pytest.raises(ValueError, match="'n_clusters' parameter of KMeans"):
        KMeans(n_clusters=0).fit([[0.0], [1.0]])

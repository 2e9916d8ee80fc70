"""Choosing the number of clusters: select_n_clusters, knee_point, the plots."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from turbocluster import (
    KMeans,
    MiniBatchKMeans,
    knee_point,
    select_n_clusters,
    silhouette_score,
)


@pytest.mark.parametrize("centers", [3, 5, 8])
def test_every_criterion_finds_the_blobs(centers):
    X, _ = make_blobs(n_samples=3000, n_features=4, centers=centers, random_state=0)
    selection = select_n_clusters(X, range(2, 13))
    assert selection.recommended == dict.fromkeys(
        ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"], centers)
    assert selection.best_n_clusters_ == centers
    assert selection.best_estimator_.n_clusters == centers


def test_scores_are_those_of_the_fitted_candidates():
    X, _ = make_blobs(n_samples=1000, n_features=3, centers=4, random_state=1)
    selection = select_n_clusters(X, [2, 4, 6])
    for i, k in enumerate([2, 4, 6]):
        model = KMeans(n_clusters=k, random_state=0).fit(X)
        assert selection.inertia[i] == pytest.approx(model.inertia_)
        assert selection.silhouette[i] == pytest.approx(silhouette_score(X, model.labels_))
        assert selection.calinski_harabasz[i] == pytest.approx(
            calinski_harabasz_score(X, model.labels_))
        assert selection.davies_bouldin[i] == pytest.approx(
            davies_bouldin_score(X, model.labels_))
    assert np.all(selection.fit_time > 0)


def test_any_estimator_and_a_silhouette_sample():
    X, _ = make_blobs(n_samples=2000, n_features=3, centers=4, random_state=2)
    selection = select_n_clusters(X, range(2, 7), estimator=MiniBatchKMeans(random_state=0),
                                  silhouette_sample_size=500, random_state=3)
    assert all(isinstance(m, MiniBatchKMeans) for m in selection.estimators_)
    model = selection.estimators_[2]
    assert selection.silhouette[2] == pytest.approx(
        silhouette_score(X, model.labels_, sample_size=500, random_state=3))


def test_knee_point_of_a_decreasing_convex_curve():
    x = np.arange(1, 11)
    assert knee_point(x, np.r_[100, 50, 10, 9, 8, 7, 6, 5, 4, 3]) == 3
    assert knee_point(x[:2], [2, 1]) is None  # too few points
    assert knee_point(x, np.ones(10)) is None  # flat


def test_table_and_frame():
    pd = pytest.importorskip("pandas")
    X, _ = make_blobs(n_samples=500, n_features=2, centers=3, random_state=0)
    selection = select_n_clusters(X, range(2, 6))
    frame = selection.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == [2, 3, 4, 5]
    assert_allclose(frame["inertia"], selection.inertia)


def test_plots_return_axes_and_accept_ax():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    X, _ = make_blobs(n_samples=500, n_features=2, centers=3, random_state=0)
    selection = select_n_clusters(X, range(2, 6))
    ax = selection.plot_elbow()
    assert ax.get_xlabel() == "number of clusters"
    assert any("elbow: 3" in t.get_text() for t in ax.get_legend().get_texts())
    given = Figure().add_subplot()
    assert selection.plot_scores("silhouette", ax=given) is given
    diagram = selection.plot_silhouette_diagram(X)
    assert diagram.get_title() == "3 clusters"
    with pytest.raises(ValueError, match="criterion must be one of"):
        selection.plot_scores("likelihood")
    with pytest.raises(ValueError, match="needs a Gaussian mixture"):
        selection.plot_scores("bic")
    # A criterion left out: an empty curve, no marker.
    only_inertia = select_n_clusters(X, range(2, 6), criteria=("inertia",))
    assert only_inertia.plot_scores("silhouette").get_legend() is None


@pytest.mark.parametrize("candidates", [[1, 2], [], [0]])
def test_bad_candidates(candidates):
    X, _ = make_blobs(n_samples=100, n_features=2, centers=3, random_state=0)
    with pytest.raises(ValueError, match="at least 2"):
        select_n_clusters(X, candidates)


def test_criteria_left_out_are_nan_without_a_recommendation():
    X, _ = make_blobs(n_samples=500, n_features=2, centers=3, random_state=0)
    selection = select_n_clusters(X, range(2, 6), criteria=("inertia",))
    assert np.all(np.isnan(selection.silhouette))
    assert selection.recommended["silhouette"] is None
    assert selection.best_n_clusters_ == selection.recommended["inertia"] == 3
    with pytest.raises(ValueError, match="criteria must include 'inertia'"):
        select_n_clusters(X, range(2, 4), criteria=("silhouette",))


def test_gaussian_mixture_candidates_get_bic_and_aic():
    # With a Gaussian mixture, each candidate's BIC and AIC are its own
    # (fitted on the same data), the lowest is recommended, and the BIC's
    # choice is the best model; the inertia is that of its labels.
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    from turbocluster import GaussianMixture

    X, _ = make_blobs(n_samples=1500, n_features=2, centers=4, random_state=1)
    selection = select_n_clusters(X, range(2, 7),
                                  estimator=GaussianMixture(random_state=0))
    reference = [SkGaussianMixture(k, random_state=0).fit(X) for k in range(2, 7)]
    np.testing.assert_allclose(selection.bic, [m.bic(X) for m in reference], rtol=1e-6)
    np.testing.assert_allclose(selection.aic, [m.aic(X) for m in reference], rtol=1e-6)
    assert selection.recommended["bic"] == 4 == selection.best_n_clusters_
    assert selection.best_estimator_.n_components == 4
    labels = reference[2].predict(X)
    within = sum(float(np.sum((X[labels == c] - X[labels == c].mean(axis=0)) ** 2))
                 for c in range(4))
    assert selection.inertia[2] == pytest.approx(within, rel=1e-9)
    assert {"bic", "aic"} <= set(selection.table())
    selection.plot_scores("bic")
    with pytest.raises(ValueError, match="need a Gaussian mixture"):
        select_n_clusters(X, range(2, 4), criteria=("inertia", "bic"))

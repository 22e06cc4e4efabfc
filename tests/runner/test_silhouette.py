"""The K-Means stage's silhouette: Euclidean distances on a sample, equal to scikit-learn's
silhouette_score on the same points and labels (an independent implementation)."""
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from sparkjobs_runner.kmeans import euclidean_silhouette, nearest


@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3), (2, 4), (3, 6)])
def test_equals_scikit_learn_on_blobs(seed, k):
    points, _ = make_blobs(n_samples=700, centers=k, n_features=5, cluster_std=2.5, random_state=seed)
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(points)
    assert euclidean_silhouette(points, labels) == pytest.approx(silhouette_score(points, labels), abs=1e-9)


def test_a_point_alone_in_its_cluster_scores_zero_as_in_scikit_learn():
    points = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.2], [5.0, 5.0], [9.0, 0.0]])
    labels = np.array([0, 0, 0, 1, 2])
    assert euclidean_silhouette(points, labels) == pytest.approx(silhouette_score(points, labels), abs=1e-12)


def test_one_cluster_has_no_silhouette():
    assert euclidean_silhouette(np.zeros((4, 2)), np.zeros(4, dtype=int)) is None


def test_nearest_is_the_k_means_assignment():
    points, _ = make_blobs(n_samples=300, centers=4, n_features=3, random_state=7)
    model = KMeans(n_clusters=4, n_init=2, random_state=7).fit(points)
    assert (nearest(points, model.cluster_centers_) == model.predict(points)).all()

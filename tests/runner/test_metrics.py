"""metrics.py: the adjusted Rand index (against scikit-learn) and segment naming from centroids."""
import itertools
import re

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from sparkjobs_runner.metrics import SEGMENTS, adjusted_rand_index, name_segments


def contingency(found, truth):
    """{(found, truth): count}, the form the runner builds with a groupBy."""
    table = {}
    for a, b in zip(found, truth):
        table[(a, b)] = table.get((a, b), 0) + 1
    return table


def ari(found, truth):
    return adjusted_rand_index(contingency(found, truth))


# ---------------------------------------------------------------- adjusted Rand index


@pytest.mark.parametrize("seed", range(12))
def test_ari_equals_sklearn_on_random_labelings(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    k_found, k_truth = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    found = rng.integers(0, k_found, n).tolist()
    truth = rng.integers(0, k_truth, n).tolist()
    assert ari(found, truth) == pytest.approx(adjusted_rand_score(truth, found), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_ari_equals_sklearn_on_noisy_copies(seed):
    # Close to the truth, as a good segmentation is: a copy with some labels changed.
    rng = np.random.default_rng(100 + seed)
    n = 500
    truth = rng.integers(0, 4, n)
    found = truth.copy()
    flip = rng.random(n) < 0.1 * (seed + 1)
    found[flip] = rng.integers(0, 4, int(flip.sum()))
    expected = adjusted_rand_score(truth, found)
    assert ari(found.tolist(), truth.tolist()) == pytest.approx(expected, abs=1e-12)
    assert 0 < expected < 1


def test_ari_with_string_labels_and_named_segments():
    truth = ["loyal", "loyal", "churning", "high-value", "potential", "churning", "loyal"]
    found = [2, 2, 0, 1, 3, 0, 1]
    assert ari(found, truth) == pytest.approx(adjusted_rand_score(truth, found), abs=1e-12)


@pytest.mark.parametrize(
    "found,truth",
    [
        ([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]),  # same partition, other labels
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # one cluster each
        ([0, 1, 2, 3], [0, 1, 2, 3]),  # every point alone, both
        ([0, 0, 0, 0], [0, 1, 2, 3]),  # one cluster vs all singletons
        ([0, 1, 2, 3], [0, 0, 0, 0]),
        ([0, 0, 1, 1], [0, 1, 0, 1]),  # anti-correlated: negative ARI
        ([0], [0]),  # a single point
        ([0, 1], [0, 0]),
        ([0, 0], [0, 0]),
    ],
)
def test_ari_edge_cases_match_sklearn(found, truth):
    assert ari(found, truth) == pytest.approx(adjusted_rand_score(truth, found), abs=1e-12)


def test_ari_is_symmetric_and_bounded():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 200).tolist()
    b = rng.integers(0, 3, 200).tolist()
    assert ari(a, b) == pytest.approx(ari(b, a), abs=1e-12)
    assert -1 <= ari(a, b) <= 1


def test_ari_of_an_empty_table():
    assert adjusted_rand_index({}) == 1.0


# ---------------------------------------------------------------- segment names

# Four clearly separated customer groups, in original units, each the textbook case of its name.
ARCHETYPES = {
    # recent, frequent, big spenders, long-standing
    "high-value": {"recency": 10.0, "frequency": 30.0, "monetary": 9000.0, "tenure": 700.0, "size": 80},
    # recent, frequent, long-standing, modest spend
    "loyal": {"recency": 15.0, "frequency": 18.0, "monetary": 900.0, "tenure": 800.0, "size": 300},
    # new, few orders, recent
    "potential": {"recency": 20.0, "frequency": 1.5, "monetary": 150.0, "tenure": 30.0, "size": 250},
    # long since the last order, few orders
    "churning": {"recency": 300.0, "frequency": 2.0, "monetary": 200.0, "tenure": 500.0, "size": 400},
}


ROLES = ("recency", "frequency", "monetary", "tenure")


def _population():
    """Mean and spread of log1p(feature) over a customer base made of the four archetypes,
    weighted by their sizes: the scaling the K-Means stage applies before clustering."""
    stats = {}
    total = sum(a["size"] for a in ARCHETYPES.values())
    for role in ROLES:
        values = [(np.log1p(a[role]), a["size"]) for a in ARCHETYPES.values()]
        mean = sum(v * n for v, n in values) / total
        sd = (sum(n * (v - mean) ** 2 for v, n in values) / total) ** 0.5
        stats[role] = (mean, sd)
    return stats


POPULATION = _population()


def standardised(raw):
    """A centroid in original units, moved into the space name_segments expects."""
    out = dict(raw)
    for role in ROLES:
        mean, sd = POPULATION[role]
        out[role] = float((np.log1p(raw[role]) - mean) / sd)
    return out


def centroids_for(names_in_order, ids=None):
    ids = ids if ids is not None else list(range(len(names_in_order)))
    return [standardised({"cluster": cid, **ARCHETYPES[name]}) for cid, name in zip(ids, names_in_order)]


@pytest.mark.parametrize("order", list(itertools.permutations(SEGMENTS)))
def test_four_separated_centroids_get_their_names_in_any_order(order):
    centroids = centroids_for(order)
    assert name_segments(centroids) == {i: name for i, name in enumerate(order)}


def test_cluster_ids_are_kept_not_positions():
    order = ["churning", "high-value", "potential", "loyal"]
    ids = [7, 3, 11, 0]
    assert name_segments(centroids_for(order, ids)) == dict(zip(ids, order))


@pytest.mark.parametrize(
    "names",
    [
        ["high-value", "churning"],
        ["churning", "high-value"],
        ["high-value", "churning", "potential"],
        ["potential", "high-value", "churning"],
        ["churning", "potential", "high-value"],
    ],
)
def test_fewer_clusters_than_names_get_distinct_fitting_names(names):
    assert name_segments(centroids_for(names)) == {i: n for i, n in enumerate(names)}


@pytest.mark.parametrize("order", [["potential", "churning"], ["churning", "potential"]])
def test_k2_new_customers_and_lapsed_customers(order):
    # New customers (last order 20 days ago, 1.5 orders) and lapsed ones (300 days, 2 orders).
    # The lapsed cluster spends a little more (200 vs 150), but a cluster that has not ordered
    # for ten months is "churning", not "high-value".
    names = name_segments(centroids_for(order))
    assert names == {i: n for i, n in enumerate(order)}


@pytest.mark.parametrize("k", [2, 3])
def test_fewer_clusters_than_names_never_share_a_name(k):
    for order in itertools.permutations(SEGMENTS, k):
        names = name_segments(centroids_for(order))
        assert len(set(names.values())) == k
        assert set(names.values()) <= set(SEGMENTS)


NAME = re.compile(r"^(high-value|loyal|potential|churning)(-[0-9]+)?$")


def test_six_clusters_four_names_plus_suffixed_ones_by_size():
    # Two extra clusters, both lapsed but less so than the archetype (cluster 1): cluster 1
    # keeps the plain name; of the other two the larger gets -2, the smaller -3.
    centroids = centroids_for(["loyal", "churning", "potential", "high-value"])
    centroids.append(standardised({"cluster": 4, "recency": 240.0, "frequency": 2.2, "monetary": 180.0, "tenure": 480.0, "size": 90}))
    centroids.append(standardised({"cluster": 5, "recency": 250.0, "frequency": 2.1, "monetary": 190.0, "tenure": 490.0, "size": 150}))
    names = name_segments(centroids)
    assert sorted(names) == [0, 1, 2, 3, 4, 5]
    assert names == {0: "loyal", 1: "churning", 2: "potential", 3: "high-value", 5: "churning-2", 4: "churning-3"}
    assert all(NAME.match(n) for n in names.values())


def test_six_clusters_with_extras_of_different_kinds():
    centroids = centroids_for(["high-value", "loyal", "potential", "churning"])
    centroids.append(standardised({"cluster": 4, **dict(ARCHETYPES["high-value"], monetary=8000.0, size=20)}))
    centroids.append(standardised({"cluster": 5, **dict(ARCHETYPES["potential"], tenure=40.0, size=60)}))
    names = name_segments(centroids)
    assert len(set(names.values())) == 6
    assert sorted(names.values()) == sorted([*SEGMENTS, "high-value-2", "potential-2"])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8])
def test_random_centroids_never_share_a_name(k):
    rng = np.random.default_rng(1000 + k)
    for _ in range(25):
        centroids = [
            {
                "cluster": int(c),
                # standardised values, as the K-Means stage passes them
                "recency": float(rng.uniform(-2.5, 2.5)),
                "frequency": float(rng.uniform(-2.5, 2.5)),
                "monetary": float(rng.uniform(-2.5, 2.5)),
                "tenure": float(rng.uniform(-2.5, 2.5)),
                "size": int(rng.integers(1, 1000)),
            }
            for c in rng.permutation(k + 3)[:k]
        ]
        names = name_segments(centroids)
        assert sorted(names) == sorted(c["cluster"] for c in centroids)
        assert len(set(names.values())) == k, names
        assert all(NAME.match(n) for n in names.values()), names
        # Every base name is used before any suffix appears.
        unsuffixed = [n for n in names.values() if n in SEGMENTS]
        assert len(unsuffixed) == min(k, 4), names


def test_identical_centroids_still_get_distinct_names():
    same = {"recency": 30.0, "frequency": 5.0, "monetary": 500.0, "tenure": 200.0, "size": 10}
    names = name_segments([{"cluster": c, **same} for c in range(6)])
    assert len(set(names.values())) == 6


def test_no_centroids_no_names():
    assert name_segments([]) == {}

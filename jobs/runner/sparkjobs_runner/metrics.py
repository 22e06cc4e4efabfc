"""Pure functions over small, collected results: no Spark here."""
from math import comb


def adjusted_rand_index(contingency):
    """ARI from a contingency table given as {(found, truth): count}."""
    rows, cols, n = {}, {}, 0
    for (a, b), c in contingency.items():
        rows[a] = rows.get(a, 0) + c
        cols[b] = cols.get(b, 0) + c
        n += c
    if n < 2:
        return 1.0
    index = sum(comb(c, 2) for c in contingency.values())
    sum_rows = sum(comb(c, 2) for c in rows.values())
    sum_cols = sum(comb(c, 2) for c in cols.values())
    expected = sum_rows * sum_cols / comb(n, 2)
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


SEGMENTS = ("high-value", "loyal", "potential", "churning")


def name_segments(centroids):
    """Business names for clusters from their centroids.

    centroids: list of dicts with cluster, size and recency, frequency, monetary, tenure given
    in the space K-Means clustered in (log-transformed and standardised over all customers), so
    a centroid's value says how far it lies from the typical customer in units of the customer
    base's spread. Each name has a score per cluster; the four names go to the assignment of
    distinct clusters with the highest total score. With more than four clusters the rest take
    the name they score best on, with a suffix (-2, -3, ...) by size.
    """
    if not centroids:
        return {}
    scores = []
    for c in centroids:
        r, f, m, t = c["recency"], c["frequency"], c["monetary"], c["tenure"]
        scores.append({
            "high-value": 1.5 * m + 0.5 * f - 0.5 * r,
            "loyal": f + 0.5 * t - r - 0.5 * m,
            "potential": -t - 0.5 * f - 0.5 * r,
            "churning": 1.5 * r - 0.5 * f,
        })
    clusters = list(range(len(centroids)))
    best, best_score = None, None

    def search(name_index, used, chosen, total):
        nonlocal best, best_score
        if name_index == len(SEGMENTS) or len(used) == len(clusters):
            if best_score is None or total > best_score + 1e-12:
                best, best_score = dict(chosen), total
            return
        name = SEGMENTS[name_index]
        for c in clusters:
            if c not in used:
                chosen[c] = name
                search(name_index + 1, used | {c}, chosen, total + scores[c][name])
                del chosen[c]
        if len(clusters) - len(used) < len(SEGMENTS) - name_index:
            search(name_index + 1, used, chosen, total)

    search(0, frozenset(), {}, 0.0)
    names = {centroids[c]["cluster"]: n for c, n in best.items()}
    rest = sorted((c for c in clusters if c not in best), key=lambda c: -centroids[c]["size"])
    for c in rest:
        base = max(SEGMENTS, key=lambda n: scores[c][n])
        taken = sum(1 for v in names.values() if v == base or v.startswith(base + "-"))
        names[centroids[c]["cluster"]] = f"{base}-{taken + 1}"
    return names


def importance_by_column(slots, weights, columns):
    """Adds the weights of a model's feature slots up per input column, normalised to sum to 1.

    slots: names of the assembled vector's slots: __i_<column> for numeric columns, __o_<column>_<value>
    for one-hot slots. Returns [(column, weight)] from the most to the least important.
    """
    totals = {c: 0.0 for c in columns}
    for slot, weight in zip(slots, weights):
        rest = slot[4:] if slot[:4] in ("__i_", "__o_") else slot
        owner = max((c for c in columns if rest == c or rest.startswith(c + "_")), key=len, default=None)
        if owner is None:
            raise ValueError(f"feature slot {slot!r} belongs to none of the columns {columns}")
        totals[owner] += abs(float(weight))
    total = sum(totals.values())
    return sorted(((c, w / total if total > 0 else 0.0) for c, w in totals.items()), key=lambda cw: (-cw[1], cw[0]))


def two_proportion_test(n_t, x_t, n_c, x_c, confidence=0.95):
    """A/B test of two response rates: treatment (n_t rows, x_t responders) against control.

    lift = p_t - p_c with a Wald confidence interval (unpooled standard error); the p-value is the
    two-sided pooled two-proportion z-test. Undefined parts are None, with a note saying why.
    """
    from math import erfc, sqrt
    from statistics import NormalDist

    out = {"treatment_rate": x_t / n_t if n_t else None, "control_rate": x_c / n_c if n_c else None,
           "lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "z": None, "p_value": None, "note": None}
    if not n_t or not n_c:
        out["note"] = "no control group" if not n_c else "no treatment group"
        return out
    p_t, p_c = x_t / n_t, x_c / n_c
    out["lift"] = p_t - p_c
    out["relative_lift"] = (p_t - p_c) / p_c if p_c > 0 else None
    se = sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z_crit = NormalDist().inv_cdf(0.5 + confidence / 2)
    out["ci_low"], out["ci_high"] = out["lift"] - z_crit * se, out["lift"] + z_crit * se
    pooled = (x_t + x_c) / (n_t + n_c)
    se_pooled = sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    if se_pooled == 0:
        out["note"] = "every row has the same outcome: the test is undefined"
        return out
    out["z"] = (p_t - p_c) / se_pooled
    out["p_value"] = erfc(abs(out["z"]) / sqrt(2))
    return out

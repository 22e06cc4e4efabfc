"""Peers for the campaign test, on the CSV itself and the splits of the Spark runs: scikit-learn's
logistic regression for response, a scikit-learn two-model learner for uplift, and every figure
(AUC, observed lift at the top, Qini) computed here for both sides with one implementation.

usage: python sklearn_campaign.py <campaign.csv> <response_scores dir> <uplift_scores dir>
Prints one JSON object.
"""
import json
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler


def features(csv):
    x = pd.get_dummies(csv[["recency", "history", "mens", "womens", "newbie", "channel", "zip_code"]], columns=["channel", "zip_code"], dtype=float)
    return x.set_index(csv["customer_id"])


def qini(frame, score):
    """Area between the Qini curve and random targeting, as a share of all rows: the curve at each
    prefix of the rows ranked by `score` is treated responders - control responders x n_t / n_c."""
    f = frame.sort_values(score, ascending=False)
    t = (f["test_group"] == "treatment").to_numpy()
    y = f["label"].to_numpy()
    nt, nc = np.cumsum(t), np.cumsum(~t)
    yt, yc = np.cumsum(y * t), np.cumsum(y * ~t)
    curve = yt - yc * np.divide(nt, nc, out=np.zeros(len(f)), where=nc > 0)
    random = curve[-1] * np.arange(1, len(f) + 1) / len(f)
    return float(np.mean(curve - random) / len(f))


def lift(frame):
    t = frame[frame["test_group"] == "treatment"]["label"]
    c = frame[frame["test_group"] == "control"]["label"]
    return float(t.mean() - c.mean())


def main(csv_path, response_dir, uplift_dir):
    csv = pd.read_csv(csv_path)
    x = features(csv)

    # Response: the contacted customers, the Spark run's split; logistic regression on standardised features.
    response = pq.read_table(response_dir).to_pandas().set_index("customer_id")
    train, test = response[response["split"] == "train"], response[response["split"] == "test"]
    scaler = StandardScaler().fit(x.loc[train.index])
    logistic = LogisticRegression(max_iter=2000).fit(scaler.transform(x.loc[train.index]), train["label"])
    sk_auc = roc_auc_score(test["label"], logistic.predict_proba(scaler.transform(x.loc[test.index]))[:, 1])

    # Uplift: every exposure, the Spark run's split; one gradient-boosting model per group.
    uplift = pq.read_table(uplift_dir).to_pandas().set_index("customer_id")
    u_train, u_test = uplift[uplift["split"] == "train"], uplift[uplift["split"] == "test"].copy()
    models = {}
    for group in ("treatment", "control"):
        rows = u_train[u_train["test_group"] == group]
        models[group] = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0).fit(x.loc[rows.index], rows["label"])
    u_test["sk_uplift"] = models["treatment"].predict_proba(x.loc[u_test.index])[:, 1] - models["control"].predict_proba(x.loc[u_test.index])[:, 1]
    top = u_test.sort_values("uplift", ascending=False).head(int(round(0.3 * len(u_test))))
    sk_top = u_test.sort_values("sk_uplift", ascending=False).head(int(round(0.3 * len(u_test))))

    print(json.dumps({
        "response": {"train": int(len(train)), "test": int(len(test)), "spark_logistic_auc": float(roc_auc_score(test["label"], test["p_logistic"])),
                     "spark_gbt_auc": float(roc_auc_score(test["label"], test["p_gbt"])), "sklearn_logistic_auc": float(sk_auc)},
        "uplift": {"test": int(len(u_test)), "average_lift": lift(u_test), "top30_lift": lift(top), "sklearn_top30_lift": lift(sk_top),
                   "spark_qini": qini(u_test, "uplift"), "sklearn_qini": qini(u_test, "sk_uplift")},
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])

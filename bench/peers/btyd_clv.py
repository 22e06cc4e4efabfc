"""The CLV peer: BG/NBD + Gamma-Gamma (lifetimes) on the same clean transactions, cutoff, horizon and
held-out customers as a clv run, and every error recomputed from the files.

usage: python btyd_clv.py <clean_transactions dir> <clv_scores dir> <cutoff YYYY-MM-DD> <horizon days>
Prints one JSON object: the label recounted from the transactions, and RMSE / MAE on the held-out
customers of GBT (the run's predictions), BG/NBD + Gamma-Gamma and the naive run rate.
"""
import contextlib
import json
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data


def main(transactions_dir, scores_dir, cutoff, horizon):
    lines = pq.read_table(transactions_dir, columns=["customer_id", "order_id", "order_ts", "quantity", "unit_price"]).to_pandas()
    lines["value"] = lines["quantity"] * lines["unit_price"]
    lines["day"] = lines["order_ts"].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
    orders = lines.groupby(["customer_id", "order_id"], as_index=False).agg(day=("day", "min"), value=("value", "sum"))
    end = pd.Timestamp(cutoff)
    history = orders[orders["day"] <= end]
    window = orders[(orders["day"] > end) & (orders["day"] <= end + pd.Timedelta(days=horizon))]

    # BG/NBD on repeat purchase days up to the cutoff; Gamma-Gamma on the repeat customers' order values.
    # Observed to the end of the cutoff day: a customer whose first order is on that day has T = 1, not 0.
    summary = summary_data_from_transaction_data(history, "customer_id", "day", monetary_value_col="value",
                                                 observation_period_end=end + pd.Timedelta(days=1), freq="D")
    # The smallest L2 penalty (lifetimes' penalizer_coef) with which the fit converges: on short
    # histories the dropout parameters run off to 0 and the unpenalised optimiser stops.
    for penalizer in (0.0, 0.001, 0.01, 0.1, 1.0):
        try:
            with contextlib.redirect_stdout(sys.stderr):  # lifetimes prints the optimiser's state when it fails
                bgf = BetaGeoFitter(penalizer_coef=penalizer).fit(summary["frequency"], summary["recency"], summary["T"])
            break
        except ConvergenceError:
            continue
    else:
        raise SystemExit("BG/NBD did not converge with any penalizer up to 1.0")
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(horizon, summary["frequency"], summary["recency"], summary["T"])
    value = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
    # A one-time buyer's expected order value is the Gamma-Gamma population mean v p / (q - 1), which is
    # finite only when q > 1; with heavier tails (q <= 1) the repeat buyers' mean order value stands in.
    p, q, v = (ggf.params_[k] for k in ("p", "q", "v"))
    population = v * p / (q - 1) if q > 1 else float(repeat["monetary_value"].mean())
    value = value.where(summary["frequency"] > 0, population)
    btyd = (purchases * value).rename("btyd")

    scores = pq.read_table(scores_dir).to_pandas().set_index("customer_id")
    label = window.groupby("customer_id")["value"].sum().clip(lower=0)
    recount = label.reindex(scores.index).fillna(0.0)
    test = scores[scores["split"] == "test"].join(btyd, how="left")

    missing = sorted(set(test.index) - set(summary.index))

    def errors(prediction):
        e = prediction.to_numpy(dtype=float) - test["spend"].to_numpy(dtype=float)
        return {"rmse": float(np.sqrt(np.mean(e ** 2))), "mae": float(np.mean(np.abs(e)))}

    print(json.dumps({
        "customers": int(len(scores)),
        "test_customers": int(len(test)),
        "label_max_difference": float((recount - scores["spend"]).abs().max()),
        "customers_without_btyd": int(test["btyd"].isna().sum()),
        "customers_not_in_history": len(missing),
        "bgnbd_params": {k: float(v) for k, v in bgf.params_.items()},
        "bgnbd_penalizer": penalizer,
        "gamma_gamma_params": {k: float(v) for k, v in ggf.params_.items()},
        "one_time_buyer_value": population,
        "gbt": errors(test["predicted_spend"]),
        "btyd": errors(test["btyd"]),
        "naive": errors(test["baseline_spend"]),
        "mean_spend": float(test["spend"].mean()),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))

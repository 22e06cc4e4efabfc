SELECT customer_id, segment, split, label AS spend, p_gbt AS predicted_spend, baseline_spend
FROM clv_predictions

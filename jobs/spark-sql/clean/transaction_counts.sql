-- Counts per cleaning rule: `matching` counts every line the rule flags, `dropped` only the
-- lines it was the first rule for, so the dropped counts add up to input - kept.
WITH per_rule AS (
  SELECT r.rule, r.position, r.hit, f.drop_reason
  FROM flagged_transactions f
  LATERAL VIEW inline(array(
    named_struct('rule', 'missing_customer', 'position', 1, 'hit', f.r_missing_customer),
    named_struct('rule', 'cancelled', 'position', 2, 'hit', f.r_cancelled),
    named_struct('rule', 'returned', 'position', 3, 'hit', f.r_returned),
    named_struct('rule', 'invalid_quantity', 'position', 4, 'hit', f.r_invalid_quantity),
    named_struct('rule', 'missing_product', 'position', 5, 'hit', f.r_missing_product),
    named_struct('rule', 'future_date', 'position', 6, 'hit', f.r_future_date),
    named_struct('rule', 'outlier', 'position', 7, 'hit', f.r_outlier),
    named_struct('rule', 'duplicate', 'position', 8, 'hit', f.r_duplicate)
  )) r
)
SELECT rule, action, matching, dropped FROM (
  SELECT 0 AS position, 'input' AS rule, 'count' AS action, count(*) AS matching, 0L AS dropped FROM flagged_transactions
  UNION ALL
  SELECT position, rule, 'drop', count_if(hit), count_if(drop_reason = rule) FROM per_rule GROUP BY position, rule
  UNION ALL
  SELECT 9, 'missing_category', 'impute', count_if(drop_reason IS NULL AND category IS NULL), 0L FROM flagged_transactions
  UNION ALL
  SELECT 10, 'kept', 'count', count_if(drop_reason IS NULL), 0L FROM flagged_transactions
)
ORDER BY position

-- Counts per cleaning rule, in one pass: `matching` counts every line the rule flags, `dropped`
-- only the lines it was the first rule for, so the dropped counts add up to input - kept.
SELECT stack(11,
  'input', 'count', n, 0L,
  'missing_customer', 'drop', m1, d1,
  'cancelled', 'drop', m2, d2,
  'returned', 'drop', m3, d3,
  'invalid_quantity', 'drop', m4, d4,
  'missing_product', 'drop', m5, d5,
  'future_date', 'drop', m6, d6,
  'outlier', 'drop', m7, d7,
  'duplicate', 'drop', m8, d8,
  'missing_category', 'impute', imputed, 0L,
  'kept', 'count', kept, 0L
) AS (rule, action, matching, dropped)
FROM (
  SELECT
    count(*) AS n,
    count_if(r_missing_customer) AS m1, count_if(drop_reason = 'missing_customer') AS d1,
    count_if(r_cancelled) AS m2, count_if(drop_reason = 'cancelled') AS d2,
    count_if(r_returned) AS m3, count_if(drop_reason = 'returned') AS d3,
    count_if(r_invalid_quantity) AS m4, count_if(drop_reason = 'invalid_quantity') AS d4,
    count_if(r_missing_product) AS m5, count_if(drop_reason = 'missing_product') AS d5,
    count_if(r_future_date) AS m6, count_if(drop_reason = 'future_date') AS d6,
    count_if(r_outlier) AS m7, count_if(drop_reason = 'outlier') AS d7,
    count_if(r_duplicate) AS m8, count_if(drop_reason = 'duplicate') AS d8,
    count_if(drop_reason IS NULL AND category IS NULL) AS imputed,
    count_if(drop_reason IS NULL) AS kept
  FROM flagged_transactions
)

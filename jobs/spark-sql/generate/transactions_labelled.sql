-- Genuine lines plus planted dirt, each dirt row labelled with what it is. Dirt rows are
-- added, never edited in place, so cleaning must recover exactly the genuine lines.
-- Planted per genuine line (by a hash of the line): 0.5% exact duplicates, 0.05% quantity
-- outliers (x1000), 0.1% lines without a product; per order: 2% cancelled with a
-- cancellation invoice (C + order id, negative quantities), 1% returned lines (R + order id),
-- 0.2% orders dated after the as-of date, and 3% extra guest orders without a customer.
WITH g AS (
  SELECT *,
    (shiftrightunsigned(xxhash64(:seed, order_id, line_no, 'dirt'), 11) + 0.5) / 9007199254740992D AS u_line,
    (shiftrightunsigned(xxhash64(:seed, order_id, 'dirt'), 11) + 0.5) / 9007199254740992D AS u_order
  FROM order_lines
),
cols AS (
  SELECT order_id, line_no, customer_id, order_ts, product_id, category, quantity, unit_price,
         payment_method, region, status, u_line, u_order
  FROM g
)
SELECT order_id, line_no, customer_id, order_ts, product_id,
       -- 1% of genuine lines lost their category: a missing value to impute, not a row to drop
       CASE WHEN u_line > 0.99 THEN NULL ELSE category END AS category,
       quantity, unit_price, payment_method, region, status, CAST(NULL AS STRING) AS planted
FROM cols
UNION ALL
SELECT order_id, line_no, customer_id, order_ts, product_id, category, quantity, unit_price,
       payment_method, region, status, 'duplicate'
FROM cols WHERE u_line < 0.005
UNION ALL
SELECT order_id, line_no + 100, customer_id, order_ts, product_id, category, quantity * 1000, unit_price,
       payment_method, region, status, 'outlier'
FROM cols WHERE u_line >= 0.005 AND u_line < 0.0055
UNION ALL
SELECT order_id, line_no + 200, customer_id, order_ts, CAST(NULL AS STRING), CAST(NULL AS STRING), 1, 5.0,
       payment_method, region, status, 'missing_product'
FROM cols WHERE u_line >= 0.0055 AND u_line < 0.0065
UNION ALL
SELECT concat('C', order_id), line_no, customer_id, order_ts + INTERVAL 1 DAY, product_id, category, -quantity, unit_price,
       payment_method, region, 'cancelled', 'cancelled'
FROM cols WHERE u_order < 0.02
UNION ALL
SELECT concat('R', order_id), line_no, customer_id, order_ts + INTERVAL 14 DAYS, product_id, category, -quantity, unit_price,
       payment_method, region, 'returned', 'returned'
FROM cols WHERE u_order >= 0.02 AND u_order < 0.03 AND line_no = 1
UNION ALL
SELECT concat('F', order_id), line_no, customer_id,
       CAST(date_add(:as_of, 1 + CAST(u_order * 1000000 % 300 AS INT)) AS TIMESTAMP), product_id, category, quantity, unit_price,
       payment_method, region, status, 'future_date'
FROM cols WHERE u_order >= 0.03 AND u_order < 0.032
UNION ALL
SELECT concat('G', order_id), line_no, CAST(NULL AS STRING), order_ts, product_id, category, quantity, unit_price,
       payment_method, region, status, 'missing_customer'
FROM cols WHERE u_order >= 0.04 AND u_order < 0.07

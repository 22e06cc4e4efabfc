-- One row per customer with the planted segment and the latent parameters that drive every
-- generated table. Randomness is a hash of (seed, customer, salt), never rand(): the same seed
-- gives the same rows on any engine and any number of partitions.
WITH u AS (
  SELECT
    id,
    (shiftrightunsigned(xxhash64(:seed, id, 'segment'), 11) + 0.5) / 9007199254740992D AS u_segment,
    (shiftrightunsigned(xxhash64(:seed, id, 'tenure'), 11) + 0.5) / 9007199254740992D AS u_tenure,
    (shiftrightunsigned(xxhash64(:seed, id, 'orders'), 11) + 0.5) / 9007199254740992D AS u_orders,
    (shiftrightunsigned(xxhash64(:seed, id, 'recency'), 11) + 0.5) / 9007199254740992D AS u_recency,
    (shiftrightunsigned(xxhash64(:seed, id, 'events'), 11) + 0.5) / 9007199254740992D AS u_events,
    (shiftrightunsigned(xxhash64(:seed, id, 'category'), 11) + 0.5) / 9007199254740992D AS u_category,
    (shiftrightunsigned(xxhash64(:seed, id, 'age'), 11) + 0.5) / 9007199254740992D AS u_age,
    (shiftrightunsigned(xxhash64(:seed, id, 'attr'), 11) + 0.5) / 9007199254740992D AS u_attr,
    (shiftrightunsigned(xxhash64(:seed, id, 'basket'), 11) + 0.5) / 9007199254740992D AS u_basket
  FROM range(0, :customers)
),
segmented AS (
  SELECT *,
    CASE
      WHEN u_segment < 0.15 THEN 'high-value'
      WHEN u_segment < 0.45 THEN 'loyal'
      WHEN u_segment < 0.70 THEN 'potential'
      ELSE 'churning'
    END AS true_segment
  FROM u
)
SELECT
  id,
  format_string('C%08d', id) AS customer_id,
  true_segment,
  -- days between signup and the as-of date
  CASE true_segment
    WHEN 'potential' THEN 15 + CAST(u_tenure * 75 AS INT)
    ELSE 400 + CAST(u_tenure * 330 AS INT)
  END AS tenure_days,
  -- completed orders over the customer's life
  CASE true_segment
    WHEN 'high-value' THEN 18 + CAST(u_orders * 14 AS INT)
    WHEN 'loyal' THEN 9 + CAST(u_orders * 8 AS INT)
    WHEN 'potential' THEN 1 + CAST(u_orders * 3 AS INT)
    ELSE 3 + CAST(u_orders * 4 AS INT)
  END AS n_orders,
  -- days between the last order and the as-of date
  CASE true_segment
    WHEN 'churning' THEN 180 + CAST(u_recency * 200 AS INT)
    WHEN 'potential' THEN 1 + CAST(u_recency * 12 AS INT)
    ELSE 1 + CAST(u_recency * 25 AS INT)
  END AS recency_days,
  -- behaviour events over the period
  CASE true_segment
    WHEN 'high-value' THEN 120 + CAST(u_events * 80 AS INT)
    WHEN 'loyal' THEN 100 + CAST(u_events * 60 AS INT)
    WHEN 'potential' THEN 60 + CAST(u_events * 80 AS INT)
    ELSE 20 + CAST(u_events * 40 AS INT)
  END AS n_events,
  -- high-value customers buy more lines and more units per line
  CASE true_segment WHEN 'high-value' THEN 3 ELSE 1 END AS min_lines,
  CASE true_segment WHEN 'high-value' THEN 4 ELSE 3 END AS span_lines,
  CASE true_segment WHEN 'high-value' THEN 3 ELSE 1 END AS min_qty,
  CASE true_segment WHEN 'high-value' THEN 5 ELSE 2 END AS span_qty,
  CAST(u_category * 8 AS INT) AS favourite_category,
  u_age,
  u_attr,
  u_basket
FROM segmented

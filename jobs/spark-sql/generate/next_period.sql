-- Planted next-period spend: each customer's orders and spend over the 13 weeks (91 days) after
-- the as-of date. A customer buys in a week with probability p_week: the order rate of their history,
-- smoothed ((orders + 1) / (tenure + 60 days)), fading with the days since their last order
-- (exp(-recency / 90)): a churning customer with a rich past buys little. An order is worth its
-- expected basket (lines x units x the mean list price) times a log-normal factor of mean 1.
-- expected_spend is the mean of spend: the best any model can predict.
WITH price AS (
  SELECT avg(list_price) AS mean_price FROM products WHERE product_id < 'P00400'
),
rates AS (
  SELECT c.id, c.customer_id,
    least(0.9, 7.0 * (c.n_orders + 1) / (c.tenure_days + 60) * exp(-c.recency_days / 90.0)) AS p_week,
    (c.min_lines + (c.span_lines - 1) / 2.0) * (c.min_qty + (c.span_qty - 1) / 2.0) * p.mean_price AS order_value
  FROM customers_latent c CROSS JOIN price p
),
weeks AS (
  SELECT r.*, w.week,
    (shiftrightunsigned(xxhash64(:seed, r.id, w.week, 'buy'), 11) + 0.5) / 9007199254740992D AS u_buy,
    (shiftrightunsigned(xxhash64(:seed, r.id, w.week, 'value1'), 11) + 0.5) / 9007199254740992D AS u1,
    (shiftrightunsigned(xxhash64(:seed, r.id, w.week, 'value2'), 11) + 0.5) / 9007199254740992D AS u2
  FROM rates r
  LATERAL VIEW explode(sequence(1, 13)) w AS week
)
SELECT
  customer_id,
  CAST(:as_of AS DATE) AS after,
  91 AS days,
  CAST(count_if(u_buy < p_week) AS INT) AS orders,
  -- log-normal, sigma 0.5, mean 1 (Box-Muller from two hashes)
  round(coalesce(sum(CASE WHEN u_buy < p_week
    THEN order_value * exp(0.5 * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2) - 0.125) END), 0D), 2) AS spend,
  13 * p_week * order_value AS expected_spend
FROM weeks
GROUP BY customer_id, p_week, order_value

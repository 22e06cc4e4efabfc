-- One row per customer with a positive net spend: recency, frequency, monetary value, average
-- order value, tenure, category preference and behaviour, as of :snapshot_date.
WITH orders AS (
  SELECT customer_id, order_id, min(order_ts) AS order_ts, sum(quantity * unit_price) AS order_value
  FROM clean_transactions
  GROUP BY customer_id, order_id
),
rfm AS (
  SELECT
    customer_id,
    datediff(:snapshot_date, to_date(max(order_ts))) AS recency_days,
    count(*) AS frequency,
    sum(order_value) AS monetary,
    datediff(:snapshot_date, to_date(min(order_ts))) AS tenure_days
  FROM orders
  GROUP BY customer_id
),
category_spend AS (
  SELECT customer_id, category, sum(quantity * unit_price) AS spend
  FROM clean_transactions
  GROUP BY customer_id, category
),
ranked AS (
  SELECT customer_id, category, spend,
    row_number() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS rank,
    sum(spend) OVER (PARTITION BY customer_id) AS total,
    count(*) OVER (PARTITION BY customer_id) AS n_categories
  FROM category_spend
),
behaviour AS (
  SELECT customer_id,
    count_if(event_type = 'view') AS views,
    count_if(event_type = 'search') AS searches,
    count_if(event_type = 'cart') AS carts,
    count_if(event_type = 'favourite') AS favourites
  FROM clean_events
  GROUP BY customer_id
),
viewed AS (
  SELECT DISTINCT customer_id, product_id FROM clean_events WHERE event_type = 'view'
),
bought AS (
  SELECT DISTINCT customer_id, product_id FROM clean_transactions
),
conversion AS (
  SELECT v.customer_id, count(*) AS viewed_products, count(b.product_id) AS viewed_and_bought
  FROM viewed v
  LEFT JOIN bought b ON b.customer_id = v.customer_id AND b.product_id = v.product_id
  GROUP BY v.customer_id
)
SELECT
  r.customer_id,
  CAST(r.recency_days AS INT) AS recency_days,
  CAST(r.frequency AS INT) AS frequency,
  r.monetary,
  r.monetary / r.frequency AS avg_order_value,
  CAST(r.tenure_days AS INT) AS tenure_days,
  CAST(k.n_categories AS INT) AS n_categories,
  k.category AS top_category,
  CASE WHEN k.total > 0 THEN least(greatest(k.spend / k.total, 0D), 1D) ELSE 0D END AS top_category_share,
  coalesce(b.views, 0L) AS views,
  coalesce(b.searches, 0L) AS searches,
  coalesce(b.carts, 0L) AS carts,
  coalesce(b.favourites, 0L) AS favourites,
  CASE WHEN c.viewed_products > 0 THEN c.viewed_and_bought / c.viewed_products END AS view_to_purchase,
  CAST(:snapshot_date AS DATE) AS snapshot_date
FROM rfm r
JOIN ranked k ON k.customer_id = r.customer_id AND k.rank = 1
LEFT JOIN behaviour b ON b.customer_id = r.customer_id
LEFT JOIN conversion c ON c.customer_id = r.customer_id
WHERE r.monetary > 0 AND r.recency_days >= 0

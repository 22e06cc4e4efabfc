-- Behaviour events with their first broken rule: anonymous (no customer), future_date, duplicate
-- (an event id seen before).
WITH numbered AS (
  SELECT e.*, row_number() OVER (PARTITION BY event_id ORDER BY event_ts, event_type) AS copy_no
  FROM events e
)
SELECT *,
  CASE
    WHEN customer_id IS NULL THEN 'anonymous'
    WHEN event_ts >= CAST(date_add(:snapshot_date, 1) AS TIMESTAMP) THEN 'future_date'
    WHEN copy_no > 1 THEN 'duplicate'
  END AS drop_reason
FROM numbered

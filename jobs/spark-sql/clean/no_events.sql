-- For sources without behaviour data: an empty events table, so the same feature SQL runs.
SELECT CAST(NULL AS STRING) AS event_id, CAST(NULL AS STRING) AS customer_id, CAST(NULL AS STRING) AS session_id,
       CAST(NULL AS TIMESTAMP) AS event_ts, CAST(NULL AS STRING) AS event_type, CAST(NULL AS STRING) AS product_id,
       CAST(NULL AS STRING) AS query
WHERE false

-- A response model predicts the response when contacted only: no control probability, no uplift.
SELECT customer_id, campaign_type, channel, segment, p_response,
       CAST(NULL AS DOUBLE) AS p_control, CAST(NULL AS DOUBLE) AS uplift
FROM scored_offers

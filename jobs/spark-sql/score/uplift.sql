-- Each offer with both uplift models' predictions: the response when contacted, the purchase
-- without contact, and their difference, the response the contact causes.
SELECT t.customer_id, t.campaign_type, t.channel, t.segment,
       t.p_response, c.p_control, t.p_response - c.p_control AS uplift
FROM treated_scores t
JOIN control_scores c USING (customer_id, campaign_type, channel)

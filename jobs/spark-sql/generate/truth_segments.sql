-- The planted segment of every customer: kept apart so that segmentation can be scored.
SELECT customer_id, true_segment FROM customers_latent

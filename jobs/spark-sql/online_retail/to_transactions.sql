-- UCI Online Retail mapped onto the transactions table:
--   InvoiceNo -> order_id; a C prefix marks a cancellation invoice (status cancelled)
--   CustomerID (a double, null for guests) -> customer_id as text, e.g. 17850.0 -> '17850'
--   InvoiceDate is naive UK local time -> order_ts in UTC (Europe/London, with summer time)
--   StockCode -> product_id when it is a product code (five digits, optional letters);
--     postage, fees and manual adjustments (POST, D, M, BANK CHARGES, AMAZONFEE, ...) get none
--   category from keywords of the Description (the data has no categories)
--   line_no numbers the lines of an invoice in a fixed order
SELECT
  InvoiceNo AS order_id,
  CAST(row_number() OVER (
    PARTITION BY InvoiceNo
    ORDER BY StockCode, Quantity, UnitPrice, Description, InvoiceDate, CustomerID) AS INT) AS line_no,
  CAST(CAST(CustomerID AS BIGINT) AS STRING) AS customer_id,
  to_utc_timestamp(CAST(InvoiceDate AS TIMESTAMP), 'Europe/London') AS order_ts,
  CASE WHEN StockCode RLIKE '^[0-9]{5}[A-Za-z]{0,2}$' THEN upper(StockCode) END AS product_id,
  CASE
    WHEN upper(Description) RLIKE 'CHRISTMAS|XMAS|EASTER|ADVENT' THEN 'seasonal'
    WHEN upper(Description) RLIKE 'BAG|PURSE|UMBRELLA|PARASOL' THEN 'bags'
    WHEN upper(Description) RLIKE 'MUG|CUP|TEA|PLATE|BOWL|JAR|LUNCH|CAKE|BAKING|KITCHEN|SPOON|TIN|BOTTLE' THEN 'kitchen'
    WHEN upper(Description) RLIKE 'CANDLE|LIGHT|LANTERN|HOLDER|FRAME|CLOCK|CUSHION|MIRROR|VASE|DOORMAT|SIGN' THEN 'home'
    WHEN upper(Description) RLIKE 'CARD|WRAP|PAPER|NOTEBOOK|PEN|PENCIL|STICKER|RIBBON|TAPE|GIFT' THEN 'stationery'
    WHEN upper(Description) RLIKE 'GARDEN|PLANT|FLOWER|BIRD' THEN 'garden'
    WHEN upper(Description) RLIKE 'TOY|GAME|DOLL|PLAYHOUSE|SPACEBOY|CHILDREN|KIDS' THEN 'toys'
    WHEN upper(Description) RLIKE 'NECKLACE|EARRING|BRACELET|RING|HAIR|JEWEL' THEN 'jewellery'
    WHEN Description IS NULL OR Description = 'Unknown' THEN NULL
    ELSE 'other'
  END AS category,
  CAST(Quantity AS INT) AS quantity,
  UnitPrice AS unit_price,
  CAST(NULL AS STRING) AS payment_method,
  Country AS region,
  CASE WHEN startswith(InvoiceNo, 'C') THEN 'cancelled' ELSE 'completed' END AS status
FROM online_retail

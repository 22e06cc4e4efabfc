-- The published reference counts of the raw file (PROVENANCE.txt), recomputed on every run so
-- that a changed or truncated copy is noticed.
SELECT
  count(*) AS rows,
  count(DISTINCT InvoiceNo) AS distinct_invoices,
  count(DISTINCT CustomerID) AS distinct_customers,
  count_if(CustomerID IS NULL) AS null_customer_rows,
  count(DISTINCT StockCode) AS distinct_stock_codes,
  count(DISTINCT Country) AS countries,
  count_if(startswith(InvoiceNo, 'C')) AS cancellation_rows,
  count_if(Quantity < 0) AS negative_quantity_rows,
  count_if(UnitPrice <= 0) AS non_positive_price_rows,
  round(sum(Quantity * UnitPrice), 2) AS total_amount,
  CAST(min(InvoiceDate) AS STRING) AS first_invoice,
  CAST(max(InvoiceDate) AS STRING) AS last_invoice
FROM online_retail

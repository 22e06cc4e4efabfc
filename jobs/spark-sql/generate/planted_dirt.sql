-- How many rows of each kind of dirt were planted, for the manifest: cleaning must find them.
SELECT coalesce(planted, 'genuine') AS kind, count(*) AS rows
FROM transactions_labelled
GROUP BY 1
ORDER BY 1

-- The contacted exposures (the treatment group; control rows were held out and never contacted):
-- what a response model learns from.
SELECT * FROM audience WHERE test_group = 'treatment'

"""The PySpark side of sparkjobs."""

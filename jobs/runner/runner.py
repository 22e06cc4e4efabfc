"""sparkjobs runner: executes one RunPlan on whatever Spark runs it.

    spark-submit --py-files sparkjobs_runner.zip runner.py --plan <uri of plan.json>

A thin shell: the work is in sparkjobs_runner. Exit codes: 0 done, 3 invalid plan,
4 invalid input, 5 job failed, 6 invalid output.
"""
import sys

from sparkjobs_runner.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

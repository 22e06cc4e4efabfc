"""sparkjobs runner: executes one RunPlan on whatever Spark runs it.

    spark-submit --py-files sparkjobs_runner.zip runner.py --plan <uri of plan.json>
    spark-submit --py-files sparkjobs_runner.zip runner.py --session <uri of a folder>

With --session, one application runs plans as requests for them appear in the folder (a
pipeline's steps), each still writing its own run and manifest.

A thin shell: the work is in sparkjobs_runner. Exit codes: 0 done, 3 invalid plan,
4 invalid input, 5 job failed, 6 invalid output.
"""
import sys

from sparkjobs_runner.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

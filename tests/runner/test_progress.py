"""The progress line: Spark jobs and tasks counted from the status tracker, per plan (job group),
against counts known beforehand (a job of 4 partitions runs 4 tasks)."""
import io
import re

from sparkjobs_runner.progress import Progress


def counts(line):
    m = re.search(r"Spark jobs (\d+) done, (\d+) running \| tasks (\d+) done", line)
    return tuple(int(x) for x in m.groups())


def test_counts_the_jobs_and_tasks_of_its_plan_and_of_no_group_only(spark):
    sc = spark.sparkContext
    progress = Progress(spark, every=3600, out=io.StringIO())
    sc.range(0, 100, numSlices=3).count()  # before the plan: not counted
    sc.setJobGroup("plan-a", "a plan")
    progress.reset("plan-a")
    progress.phase("stage features")
    assert progress.line().startswith("[progress] stage features | Spark jobs 0 done, 0 running | tasks 0 done")
    sc.range(0, 100, numSlices=4).count()
    sc.range(0, 100, numSlices=2).sum()
    assert counts(progress.line()) == (2, 0, 6)
    sc.setJobGroup("other", "another plan's jobs")
    sc.range(0, 10, numSlices=5).count()
    assert counts(progress.line()) == (2, 0, 6)
    # The next plan in the same application starts from zero.
    sc.setJobGroup("plan-b", "b")
    progress.reset("plan-b")
    sc.range(0, 10, numSlices=1).count()
    assert counts(progress.line()) == (1, 0, 1)
    sc.setJobGroup("none", "none")


def test_writes_a_line_while_a_job_runs_and_stops(spark):
    import time

    out = io.StringIO()
    sc = spark.sparkContext
    sc.setJobGroup("plan-slow", "slow")
    progress = Progress(spark, every=0.2, out=out)
    progress.reset("plan-slow")
    progress.phase("stage slow")
    progress.start()
    sc.range(0, 4, numSlices=4).map(lambda x: time.sleep(0.5) or x).count()
    time.sleep(0.5)
    progress.stop()
    lines = out.getvalue().splitlines()
    assert lines and all(line.startswith("[progress] stage slow | ") for line in lines)
    assert counts(lines[-1])[:1] == (1,) and counts(lines[-1])[2] == 4
    progress._thread.join(1)
    assert not progress._thread.is_alive()
    sc.setJobGroup("none", "none")

"""Progress while Spark works: every few seconds one line on stderr,

    [progress] stage customer_features | Spark jobs 12 done, 1 running | tasks 230 done, 3 of 8 running stage | 41 s

read from Spark's status tracker (it works with the UI off). The submitter shows it as one line
that updates on a terminal, or as a line every few seconds in a log. A job that has ended is
counted once and never asked about again, so a poll costs a few calls however long the run."""
import sys
import threading
import time


class Progress:
    def __init__(self, spark, every=2.0, out=None):
        self._tracker = spark.sparkContext.statusTracker()
        self._every = every
        self._out = out or sys.stderr
        self._phase = None
        self._started = time.time()
        self._group = None
        self._ignored = set()
        self._ended_jobs = set()
        self._ended_tasks = 0
        self._last = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sparkjobs-progress", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def phase(self, name):
        """What the run is doing now, in the job definition's words: "stage <name>", "write <output>", "checks"."""
        self._phase = name

    def reset(self, group):
        """A new plan (the first, or a pipeline's next step in the same application): its own clock
        and counts, from the jobs of its job group (the run id) and those of no group (checks run
        on threads of their own)."""
        self._ignored = set(self._job_ids())
        self._group = group
        self._ended_jobs, self._ended_tasks = set(), 0
        self._started = time.time()
        self._phase = None

    def _job_ids(self):
        ids = set(self._tracker.getJobIdsForGroup())
        if self._group is not None:
            ids.update(self._tracker.getJobIdsForGroup(self._group))
        return ids

    def stop(self):
        self._stop.set()

    def line(self):
        tracker = self._tracker
        running_jobs, done_tasks, stage_text = 0, self._ended_tasks, ""
        for job_id in sorted(self._job_ids()):
            if job_id in self._ended_jobs or job_id in self._ignored:
                continue
            info = tracker.getJobInfo(job_id)
            if info is None:
                continue
            stages = [s for s in (tracker.getStageInfo(sid) for sid in info.stageIds) if s is not None]
            completed = sum(s.numCompletedTasks for s in stages)
            if info.status in ("SUCCEEDED", "FAILED"):
                self._ended_jobs.add(job_id)
                self._ended_tasks += completed
                done_tasks += completed
                continue
            running_jobs += 1
            done_tasks += completed
            active = [s for s in stages if s.numActiveTasks > 0 or 0 < s.numCompletedTasks < s.numTasks]
            if active:
                s = active[0]
                stage_text = f", {s.numCompletedTasks} of {s.numTasks} running stage"
        phase = self._phase or "starting"
        return (f"[progress] {phase} | Spark jobs {len(self._ended_jobs)} done, {running_jobs} running"
                f" | tasks {done_tasks} done{stage_text} | {time.time() - self._started:.0f} s")

    def _loop(self):
        while not self._stop.wait(self._every):
            try:
                text = self.line()
            except Exception:  # noqa: BLE001 - a stopping context, a py4j hiccup: progress is never worth a failure
                continue
            if text != self._last:
                self._out.write(text + "\n")
                self._out.flush()
                self._last = text

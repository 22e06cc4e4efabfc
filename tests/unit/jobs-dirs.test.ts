/**
 * A team's jobs folder beside the shipped one: jobs, pipelines, SQL files and MLlib configurations
 * from both, the team's winning on a name in both.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jobFile, listJobs, loadJob, replacedNames } from "../../submitter/src/config/job.js";
import { listPipelines, loadPipeline } from "../../submitter/src/pipeline.js";

const shipped = join(import.meta.dirname, "..", "..", "jobs");

describe("--jobs-dir adds a team's jobs to the shipped ones", () => {
  let team: string;
  let dirs: string[];

  beforeAll(() => {
    team = mkdtempSync(join(tmpdir(), "sparkjobs-team-"));
    mkdirSync(join(team, "spark-sql", "clean"), { recursive: true });
    mkdirSync(join(team, "pipelines"));
    // A job of the team's own that reads the shipped cleaning SQL and a SQL file of its own.
    writeFileSync(join(team, "spark-sql", "mine.sql"), "SELECT * FROM clean_transactions\n");
    writeFileSync(join(team, "my-job.yaml"), readFileSync(join(shipped, "customer-segmentation.yaml"), "utf8")
      .replace("name: customer-segmentation", "name: my-job")
      .replace("  - { kind: sql, name: clean_events, file: clean/clean_events.sql }", "  - { kind: sql, name: clean_events, file: clean/clean_events.sql }\n  - { kind: sql, name: mine, file: mine.sql }"));
    // The team's own version of a shipped SQL file and of a shipped job.
    writeFileSync(join(team, "spark-sql", "clean", "clean_events.sql"), "SELECT * FROM flagged_events WHERE drop_reason IS NULL AND event_type <> 'search'\n");
    writeFileSync(join(team, "kpis.yaml"), readFileSync(join(shipped, "kpis.yaml"), "utf8").replace("version: 1", "version: 7"));
    writeFileSync(join(team, "pipelines", "nightly.yaml"), "name: nightly\nversion: 1\ndescription: d\nsteps:\n  - { name: kpis, job: kpis, params: { source: a, segments: b } }\n");
    dirs = [team, shipped];
  });

  it("lists the jobs and pipelines of both", () => {
    expect(listJobs(dirs)).toContain("my-job");
    expect(listJobs(dirs)).toContain("customer-segmentation");
    expect(listPipelines(dirs)).toEqual(["campaign-targeting", "nightly", "precision-marketing", "retail-analytics"]);
  });

  it("the team's job wins on a name in both, and the names it replaces are said", () => {
    expect(loadJob(dirs, "kpis").definition.version).toBe(7);
    expect(loadJob(shipped, "kpis").definition.version).toBe(1);
    expect(replacedNames(dirs)).toEqual(["kpis"]);
    expect(loadPipeline(dirs, "nightly").definition.steps[0]!.job).toBe("kpis");
  });

  it("a team's job reads shipped SQL files and its own; its own version of a file wins", () => {
    const job = loadJob(dirs, "my-job");
    expect(job.sql.get("mine")!.file).toBe(join(team, "spark-sql", "mine.sql"));
    expect(job.sql.get("flagged_transactions")!.file).toBe("jobs/spark-sql/clean/flag_transactions.sql");
    expect(job.sql.get("clean_events")!.text).toContain("event_type <> 'search'");
    expect(loadJob(shipped, "customer-segmentation").sql.get("clean_events")!.text).not.toContain("search");
  });

  it("a job name is a name, never a path out of the folders", () => {
    expect(() => jobFile(dirs, "../../other/evil-job")).toThrow(/no job named "..\/..\/other\/evil-job"/);
  });
});

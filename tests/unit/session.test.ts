/**
 * SessionBackend: a pipeline's steps as requests to one runner session, with a fake target backend
 * (what it was asked to submit) and the runner's side played here through the session's folder.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunPlan } from "../../schemas/src/index.js";
import { SessionBackend } from "../../submitter/src/backends/session.js";
import type { Backend, RunStatus, Submission } from "../../submitter/src/backends/types.js";
import { runnerArgs, type Staged } from "../../submitter/src/stage/stage.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";

class FakeTarget implements Backend {
  readonly target = "local";
  readonly submitted: { plan: RunPlan; staged: Staged }[] = [];
  state: RunStatus = { state: "running", engineState: "RUNNING" };
  cancelled = 0;
  sparkConf() {
    return {};
  }
  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    this.submitted.push({ plan, staged });
    return { runId: plan.runId, engineId: `pid-${this.submitted.length}`, logLocation: `/logs/${plan.runId}` };
  }
  async status() {
    return this.state;
  }
  async cancel() {
    this.cancelled += 1;
    this.state = { state: "cancelled", engineState: "SIGTERM" };
  }
  async logs() {
    return "the session's log";
  }
}

const plan = (runId: string, sparkConf: Record<string, string> = { "spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false" }) =>
  ({ runId, job: { name: "j", version: 1, file: "j.yaml" }, sparkConf }) as unknown as RunPlan;
const staged = (runId: string): Staged => ({ planUri: `/root/stage/plans/${runId}.json`, planSha256: runId, runnerUri: "/r.py", pyFilesUri: "/r.zip", uploaded: [] });

function setup() {
  const root = mkdtempSync(join(tmpdir(), "sparkjobs-session-"));
  const target = new FakeTarget();
  const apart: FakeTarget[] = [];
  const session = new SessionBackend({
    backend: target,
    apart: async () => {
      apart.push(new FakeTarget());
      return apart.at(-1)!;
    },
    storage: new LocalStorage(),
    root,
    name: "pm",
  });
  const folder = () => join(root, "stage", "sessions", readdirSync(join(root, "stage", "sessions"))[0]!);
  return { root, target, apart, session, folder };
}

describe("one Spark application for a pipeline's steps", () => {
  it("starts the runner once, as a session; each step is a request whose result the runner writes", async () => {
    const { target, session, folder } = setup();
    const a = await session.submit(plan("p.a"), staged("p.a"));
    const b = await session.submit(plan("p.b", { "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "200" }), { ...staged("p.b"), series: "nightly" });
    expect(target.submitted).toHaveLength(1);
    expect(runnerArgs(target.submitted[0]!.staged)).toEqual(["--session", folder()]);
    expect(JSON.parse(readFileSync(join(folder(), "1.request.json"), "utf8"))).toEqual({ plan: "/root/stage/plans/p.a.json", series: "default", runId: "p.a" });
    expect(JSON.parse(readFileSync(join(folder(), "2.request.json"), "utf8"))).toMatchObject({ plan: "/root/stage/plans/p.b.json", series: "nightly" });
    expect(a.engineId).toBe("pid-1 (step 1)");
    expect(b.logLocation).toBe("/logs/p.a");
    expect(await session.status(a)).toEqual({ state: "running", engineState: "RUNNING" });
    writeFileSync(join(folder(), "1.result.json"), JSON.stringify({ exitCode: 0, error: null }));
    writeFileSync(join(folder(), "2.result.json"), JSON.stringify({ exitCode: 4, error: { exitCode: 4, message: "bad prices", fix: "fix them" } }));
    expect(await session.status(a)).toEqual({ state: "succeeded", engineState: "EXIT 0" });
    expect(await session.status(b)).toMatchObject({ state: "failed", engineState: "EXIT 4", failure: { message: "bad prices", fix: "fix them" } });
  });

  it("a step whose application ended without its result failed (or was cancelled); the next step starts a new application", async () => {
    const { target, session } = setup();
    const a = await session.submit(plan("p.a"), staged("p.a"));
    target.state = { state: "failed", engineState: "EXIT 137" };
    expect(await session.status(a)).toMatchObject({ state: "failed", reason: "the pipeline's Spark application ended before this step finished" });
    target.state = { state: "running", engineState: "RUNNING" };
    await session.submit(plan("p.b"), staged("p.b"));
    expect(target.submitted.map((s) => s.plan.runId)).toEqual(["p.a", "p.b"]);
    await session.cancel(a);
    expect(target.cancelled).toBe(1);
  });

  it("a step with other fixed Spark settings or other Python packages runs in an application of its own", async () => {
    const { target, apart, session } = setup();
    await session.submit(plan("p.a"), staged("p.a"));
    const b = await session.submit(plan("p.b", { "spark.ui.enabled": "false", "spark.executor.memory": "8g" }), staged("p.b"));
    const c = await session.submit({ ...plan("p.c"), python: { packages: ["xgboost-cpu==3.2.0"] } } as RunPlan, staged("p.c"));
    expect(target.submitted).toHaveLength(1);
    expect(apart.map((t) => t.submitted.map((s) => [s.plan.runId, s.staged.session]))).toEqual([[["p.b", undefined]], [["p.c", undefined]]]);
    expect(b.engineId).toBe("pid-1");
    apart[1]!.state = { state: "succeeded", engineState: "EXIT 0" };
    expect(await session.status(c)).toEqual({ state: "succeeded", engineState: "EXIT 0" });
  });

  it("close asks the runner to end, waits for its application, and leaves nothing behind", async () => {
    const { target, session, folder } = setup();
    await session.submit(plan("p.a"), staged("p.a"));
    setTimeout(() => {
      expect(existsSync(join(folder(), "end"))).toBe(true);
      target.state = { state: "succeeded", engineState: "EXIT 0" };
    }, 300);
    const used = folder();
    await session.close(5000);
    expect(target.state.state).toBe("succeeded");
    expect(existsSync(used)).toBe(false);
  });
});

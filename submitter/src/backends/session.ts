/**
 * One Spark application for a pipeline's steps. The first step starts the runner as a session
 * (`runner.py --session <folder>`) through the target's own backend; each step then writes a
 * request (its staged plan and series) into the folder, and the runner, already up, runs it in the
 * same SparkSession and writes the step's result beside it. Each step is still its own run: its
 * own plan, outputs, manifest, lock and history entry, reusable and resumable as before; only the
 * JVM start, the Python start and the executors' start-up are paid once.
 *
 * A step whose plan needs another application (Spark settings beyond spark.sql.* that differ from
 * the session's, or another Python environment) runs in an application of its own, as a single
 * `run` would. Cancelling a step (Ctrl-C, a timeout) stops the whole application: the pipeline
 * stops there anyway.
 */
import { randomBytes } from "node:crypto";
import { rmdirSync } from "node:fs";
import type { RunPlan } from "../../../schemas/src/index.js";
import { joinUri } from "../plan/build.js";
import type { Staged } from "../stage/stage.js";
import { toLocalPath, type Storage } from "../stage/storage.js";
import { TERMINAL_STATES, type Backend, type RunnerFailure, type RunStatus, type Submission } from "./types.js";

interface Session {
  submission: Submission;
  /** The settings fixed at the application's start (all but spark.sql.*), and its Python environment. */
  fixedConf: Record<string, string>;
  python: string;
  ended?: RunStatus;
}

const fixed = (conf: Record<string, string>) => Object.fromEntries(Object.entries(conf).filter(([k]) => !k.startsWith("spark.sql.")).sort(([a], [b]) => a.localeCompare(b)));
const pythonOf = (plan: RunPlan) => JSON.stringify(plan.python?.packages ?? []);

export interface SessionBackendOptions {
  /** The target's backend that starts the session's application. */
  backend: Backend;
  /** Makes another backend of the target, for a step that runs in an application of its own. */
  apart: () => Promise<Backend>;
  storage: Storage;
  root: string;
  /** Names the session's folder (<root>/stage/sessions/<name>-<random>/). */
  name: string;
  log?: (message: string) => void;
}

export class SessionBackend implements Backend {
  readonly target: string;
  readonly maxPollDelayMs: number | undefined;
  readonly shipsPythonEnv: boolean | undefined;
  private readonly session: Backend;
  private readonly folder: string;
  private current?: Session;
  private n = 0;
  /** Steps by run id: the request number in the session, or the backend that runs the step apart. */
  private readonly steps = new Map<string, { n: number } | { apart: Backend }>();

  constructor(private readonly options: SessionBackendOptions) {
    this.session = options.backend;
    this.target = this.session.target;
    this.maxPollDelayMs = this.session.maxPollDelayMs;
    this.shipsPythonEnv = this.session.shipsPythonEnv;
    this.folder = joinUri(options.root, "stage", "sessions", `${options.name}-${randomBytes(4).toString("hex")}`);
  }

  sparkConf(): Record<string, string> {
    return this.session.sparkConf();
  }

  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    const live = this.current && !this.current.ended ? this.current : undefined;
    if (live && (JSON.stringify(fixed(plan.sparkConf)) !== JSON.stringify(live.fixedConf) || pythonOf(plan) !== live.python)) {
      this.options.log?.(`run ${plan.runId} needs Spark settings or Python packages of its own: it runs in an application of its own`);
      const apart = await this.options.apart();
      this.steps.set(plan.runId, { apart });
      return apart.submit(plan, staged);
    }
    if (!live) {
      // The first step (or the first after an application that ended) starts the session's application.
      this.current = {
        submission: await this.session.submit(plan, { ...staged, session: this.folder }),
        fixedConf: fixed(plan.sparkConf),
        python: pythonOf(plan),
      };
      this.options.log?.(`one Spark application for the pipeline's steps (${this.current.submission.engineId}); requests in ${this.folder}`);
    }
    this.n += 1;
    const request = { plan: staged.planUri, series: staged.series ?? "default", runId: plan.runId };
    await this.options.storage.put(joinUri(this.folder, `${this.n}.request.json`), JSON.stringify(request));
    this.steps.set(plan.runId, { n: this.n });
    const app = this.current!.submission;
    return { runId: plan.runId, engineId: `${app.engineId} (step ${this.n})`, logLocation: app.logLocation };
  }

  async status(submission: Submission): Promise<RunStatus> {
    const step = this.steps.get(submission.runId);
    if (!step) return { state: "failed", engineState: "UNKNOWN", reason: "this process did not submit the run" };
    if ("apart" in step) return step.apart.status(submission);
    const result = await this.options.storage.readText(joinUri(this.folder, `${step.n}.result.json`));
    if (result !== undefined) {
      const { exitCode, error } = JSON.parse(result) as { exitCode: number; error: RunnerFailure | null };
      if (exitCode === 0) return { state: "succeeded", engineState: "EXIT 0" };
      return { state: "failed", engineState: `EXIT ${exitCode}`, ...(error ? { failure: error } : { reason: `the runner exited with ${exitCode}` }) };
    }
    const session = this.current!;
    const app = await this.session.status(session.submission);
    if (!TERMINAL_STATES.has(app.state)) return { state: app.state === "pending" ? "pending" : "running", engineState: app.engineState };
    // The application ended without answering this request: it was cancelled, or it died.
    session.ended = app;
    if (app.state === "cancelled") return app;
    return { ...app, state: "failed", ...(app.failure || app.reason ? {} : { reason: "the pipeline's Spark application ended before this step finished" }) };
  }

  async cancel(submission: Submission): Promise<void> {
    const step = this.steps.get(submission.runId);
    if (step && "apart" in step) return step.apart.cancel(submission);
    if (this.current) await this.session.cancel(this.current.submission);
  }

  async logs(submission: Submission, tailLines: number): Promise<string> {
    const step = this.steps.get(submission.runId);
    if (step && "apart" in step) return step.apart.logs(submission, tailLines);
    return this.current ? this.session.logs(this.current.submission, tailLines) : "";
  }

  /**
   * Ends the session: the runner sees the end request and stops its application, which is waited
   * for (up to waitMs); the session's requests and results are removed, and its folder on a local disk.
   */
  async close(waitMs = 60_000): Promise<void> {
    const session = this.current;
    if (session && !session.ended) {
      await this.options.storage.put(joinUri(this.folder, "end"), "");
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        if (TERMINAL_STATES.has((await this.session.status(session.submission)).state)) break;
        // A local driver is asked often; a cluster's API (EMR's is rate-limited) once a second.
        await new Promise((r) => setTimeout(r, this.maxPollDelayMs !== undefined && this.maxPollDelayMs < 1000 ? 200 : 1000));
      }
    }
    for (let i = 1; i <= this.n; i++) {
      for (const name of [`${i}.request.json`, `${i}.result.json`]) await this.options.storage.delete(joinUri(this.folder, name)).catch(() => undefined);
    }
    await this.options.storage.delete(joinUri(this.folder, "end")).catch(() => undefined);
    // A folder on a local disk stays behind once empty (object stores have no folders to remove).
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(this.folder) || this.folder.startsWith("file:")) {
      try {
        rmdirSync(toLocalPath(this.folder));
      } catch {
        /* not empty (a runner still writing) or already gone */
      }
    }
  }
}

/**
 * The run lock on local storage: one holder at a time, a refusal that names the holder and how
 * to get past it, takeover of stale locks (dead process on this host, lease past), release of
 * only one's own lock, and executeRun refusing a second submit of a run id while one is running.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { RunPlan } from "../../schemas/src/index.js";
import type { Backend, RunStatus, Submission } from "../../submitter/src/backends/types.js";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { planSha256 } from "../../submitter/src/plan/build.js";
import { executeRun, prepareRun } from "../../submitter/src/run.js";
import { acquireRunLock, LEASE_MARGIN_MS, lockUri, parseLock, releaseHeldLocks, type LockContent, type LockEnvironment, type RunLock } from "../../submitter/src/stage/lock.js";
import type { Staged } from "../../submitter/src/stage/stage.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";

const jobsDir = join(import.meta.dirname, "..", "..", "jobs");
const T0 = Date.parse("2026-03-01T12:00:00Z");
const HOUR = 3_600_000;

const freshRoot = () => mkdtempSync(join(tmpdir(), "sparkjobs-lock-"));
const request = (root: string, runId = "r1", target = "local") => ({ root, runId, planSha256: "a".repeat(64), target, timeoutMs: HOUR });
/** A process that is alive (or not) as the test says, at a fixed time. */
const env = (pid: number, over: Partial<LockEnvironment> = {}): LockEnvironment => ({ now: () => T0, host: "host-a", pid, isAlive: () => true, ...over });
const readLock = (root: string, runId = "r1") => JSON.parse(readFileSync(lockUri(root, runId), "utf8")) as LockContent;

async function failure(p: Promise<unknown>): Promise<SparkjobsError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(SparkjobsError);
  return e as SparkjobsError;
}

describe("run lock", () => {
  test("acquiring creates <root>/locks/<runId>.json with the holder, the plan and a lease of the timeout plus ten minutes", async () => {
    const root = freshRoot();
    const lock = await acquireRunLock(new LocalStorage(), request(root), env(101));
    expect(lock.uri).toBe(join(root, "locks", "r1.json"));
    expect(readLock(root)).toEqual({
      runId: "r1",
      planSha256: "a".repeat(64),
      target: "local",
      host: "host-a",
      pid: 101,
      acquiredAt: "2026-03-01T12:00:00.000Z",
      expiresAt: new Date(T0 + HOUR + LEASE_MARGIN_MS).toISOString(),
    });
    expect(lock.content).toEqual(readLock(root));
    await lock.release();
  });

  test("a second acquire while the lock is held is a conflict (exit 11) naming the run, the holder and the lock, with how to get past it", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const first = await acquireRunLock(storage, request(root, "r1", "standalone"), env(101));
    const e = await failure(acquireRunLock(storage, request(root), env(202)));
    const uri = join(root, "locks", "r1.json");
    expect(e.exitCode).toBe(11);
    expect(e.message).toBe(`run r1 is already being submitted by host-a pid 101 (target standalone, since 2026-03-01T12:00:00.000Z); lock ${uri}`);
    expect(e.fix).toBe(
      "another submit of run r1 is running: wait for it and rerun the same --run-id r1 to read its result (a complete run is reported, not run again); " +
        `if that process is gone, the lock expires at ${first.content.expiresAt} or can be removed: rm ${uri}`,
    );
    expect(readLock(root)).toEqual(first.content);
    // Orchestrators read this: a retry later reads the holder's result.
    expect(e.toJSON()).toMatchObject({ kind: "conflict", exitCode: 11, retryable: true });
    await first.release();
  });

  test("a lock held by a process of this host that no longer runs is taken over, and the takeover is logged", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    mkdirSync(join(root, "locks"));
    writeFileSync(lockUri(root, "r1"), JSON.stringify({ ...request(root), host: hostname(), pid: dead, acquiredAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + HOUR).toISOString() }));
    const logs: string[] = [];
    const lock = await acquireRunLock(storage, request(root), { now: () => T0, log: (m) => logs.push(m) });
    expect(readLock(root)).toMatchObject({ host: hostname(), pid: process.pid });
    expect(logs).toEqual([`taking over the lock of run r1 held by ${hostname()} pid ${dead} since 2026-03-01T12:00:00.000Z: process ${dead} no longer runs on ${hostname()}`]);
    await lock.release();
  });

  test("a lock of a process on another host is not taken over before its lease ends, even when that pid does not exist here", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const other = await acquireRunLock(storage, request(root), env(101, { host: "host-b" }));
    const e = await failure(acquireRunLock(storage, request(root), env(202, { isAlive: () => false })));
    expect(e.kind).toBe("conflict");
    expect(readLock(root)).toEqual(other.content);
    await other.release();
  });

  test("a lock past its lease is taken over even while its holder still runs", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const old = await acquireRunLock(storage, request(root), env(101));
    const later = T0 + HOUR + LEASE_MARGIN_MS;
    const e = await failure(acquireRunLock(storage, request(root), env(202, { now: () => later - 1 })));
    expect(e.kind).toBe("conflict");
    const logs: string[] = [];
    const lock = await acquireRunLock(storage, request(root), env(202, { now: () => later, log: (m) => logs.push(m) }));
    expect(readLock(root)).toMatchObject({ pid: 202, acquiredAt: new Date(later).toISOString() });
    expect(logs[0]).toContain(`its lease ended at ${old.content.expiresAt}`);
    // The old holder's release leaves the new holder's lock alone.
    await old.release();
    expect(readLock(root)).toEqual(lock.content);
    await lock.release();
    expect(existsSync(lockUri(root, "r1"))).toBe(false);
  });

  test("release removes the lock when it is still ours and leaves a lock rewritten by someone else", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const mine = await acquireRunLock(storage, request(root), env(101));
    await mine.release();
    expect(existsSync(lockUri(root, "r1"))).toBe(false);

    const again = await acquireRunLock(storage, request(root), env(101));
    const theirs = { ...again.content, pid: 303, acquiredAt: new Date(T0 + 1).toISOString() };
    writeFileSync(lockUri(root, "r1"), JSON.stringify(theirs));
    await again.release();
    expect(readLock(root)).toEqual(theirs);
  });

  test("a lock that is not a readable lock is a conflict that says how to remove it", async () => {
    const root = freshRoot();
    mkdirSync(join(root, "locks"));
    writeFileSync(lockUri(root, "r1"), "");
    const e = await failure(acquireRunLock(new LocalStorage(), request(root), env(101)));
    expect(e.message).toBe(`run r1 is locked by ${lockUri(root, "r1")}, which is not a readable lock`);
    expect(e.fix).toContain(`remove the lock: rm ${lockUri(root, "r1")}`);
    expect(parseLock("{}")).toBeUndefined();
  });

  test("of ten acquirers of one run id at once, exactly one holds the lock and the others are refused", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acquireRunLock(storage, request(root), env(1000 + i)).then((lock) => lock, (e: unknown) => e as SparkjobsError)),
    );
    const winners = outcomes.filter((o): o is RunLock => !(o instanceof SparkjobsError));
    const losers = outcomes.filter((o): o is SparkjobsError => o instanceof SparkjobsError);
    expect(winners).toHaveLength(1);
    expect(losers.map((e) => e.exitCode)).toEqual(Array(9).fill(11));
    const holder = readLock(root);
    expect(winners[0]!.content).toEqual(holder);
    for (const e of losers) expect(e.message).toContain(`pid ${holder.pid}`);
  });

  test("of eight processes acquiring one run id at the same moment, exactly one holds the lock", async () => {
    const root = freshRoot();
    const dist = join(import.meta.dirname, "..", "..", "dist", "submitter", "src", "stage");
    const script = `
      const { acquireRunLock } = await import(${JSON.stringify(join(dist, "lock.js"))});
      const { LocalStorage } = await import(${JSON.stringify(join(dist, "storage.js"))});
      const [root, startAt] = [process.argv[1], Number(process.argv[2])];
      await new Promise((r) => setTimeout(r, startAt - Date.now()));
      const outcome = await acquireRunLock(new LocalStorage(), { root, runId: "r1", planSha256: "a", target: "local", timeoutMs: 60000 }, { now: Date.now })
        .then(() => "won", (e) => "lost " + e.exitCode);
      process.stdout.write(outcome);
      // Held until every other process has tried (each leaves a mark; a loaded machine starts some
      // late): a holder that exits leaves a stale lock, which a late one would rightly take over.
      const { readdirSync, writeFileSync } = await import("node:fs");
      writeFileSync(root + "/tried-" + process.pid, "");
      for (let waited = 0; waited < 60000 && readdirSync(root).filter((n) => n.startsWith("tried-")).length < 8; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
      }
    `;
    const startAt = Date.now() + 1500;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ["--input-type=module", "-e", script, root, String(startAt)], { stdio: ["ignore", "pipe", "inherit"] });
          let out = "";
          child.stdout.on("data", (d: Buffer) => (out += d.toString()));
          child.on("error", reject);
          child.on("close", () => resolve(out));
        }),
      ),
    );
    expect(outcomes.sort()).toEqual(["lost 11", "lost 11", "lost 11", "lost 11", "lost 11", "lost 11", "lost 11", "won"]);
  });

  test("releaseHeldLocks removes every lock this process still holds, as the signal handler does", async () => {
    const root = freshRoot();
    const storage = new LocalStorage();
    await acquireRunLock(storage, request(root, "s1"), env(process.pid));
    await acquireRunLock(storage, request(root, "s2"), env(process.pid));
    await releaseHeldLocks();
    expect([existsSync(lockUri(root, "s1")), existsSync(lockUri(root, "s2"))]).toEqual([false, false]);
  });
});

/** A backend whose status waits until the test lets the run finish, then writes its manifest. */
class GatedBackend implements Backend {
  readonly target = "scripted";
  readonly maxPollDelayMs = 5;
  submits: RunPlan[] = [];
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  private entered!: () => void;
  /** Resolves when status is first asked, that is, while the run is submitted and being waited for. */
  readonly waiting = new Promise<void>((resolve) => (this.entered = resolve));
  sparkConf() {
    return {};
  }
  async submit(plan: RunPlan, _staged: Staged): Promise<Submission> {
    this.submits.push(plan);
    return { runId: plan.runId, engineId: `e${this.submits.length}`, logLocation: "nowhere" };
  }
  async status(_s: Submission): Promise<RunStatus> {
    this.entered();
    await this.gate;
    writeManifest(this.submits[this.submits.length - 1]!);
    return { state: "succeeded", engineState: "EXIT 0" };
  }
  finish() {
    this.open();
  }
  async cancel() {}
  async logs() {
    return "";
  }
}

function writeManifest(plan: RunPlan) {
  const outputs = Object.fromEntries(plan.outputs.map((o) => [o.name, { uri: o.uri, table: o.table, rows: 0, files: [], columns: [] }]));
  mkdirSync(plan.runUri, { recursive: true });
  writeFileSync(join(plan.runUri, "_manifest.json"), JSON.stringify({
    manifestVersion: 1, runId: plan.runId, job: { name: plan.job.name, version: plan.job.version }, planSha256: planSha256(plan), status: "succeeded",
    engine: { sparkVersion: "3.5.5", master: "local", applicationId: "a" }, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z",
    durationMs: 1000, outputs, metrics: {}, stages: [],
  }));
}

function runOptions(root: string, backend: Backend, runId: string) {
  return { jobsDir, job: "generate", params: { customers: "10" }, runId, root, storage: new LocalStorage(), backend, timeoutMs: 30_000, log: () => {} };
}

describe("executeRun with the run lock", () => {
  test("a second run of the same run id while the first is running is refused with exit 11 and submits nothing; the lock is gone after the first ends", async () => {
    const root = freshRoot();
    const first = new GatedBackend();
    const running = executeRun(runOptions(root, first, "busy"));
    await first.waiting;
    expect(readLock(root, "busy")).toMatchObject({ runId: "busy", target: "scripted", pid: process.pid });

    const second = new GatedBackend();
    second.finish();
    const e = await failure(executeRun(runOptions(root, second, "busy")));
    expect(e.exitCode).toBe(11);
    expect(e.message).toContain(`run busy is already being submitted by ${hostname()} pid ${process.pid} (target scripted, since `);
    expect(second.submits).toHaveLength(0);
    expect(existsSync(lockUri(root, "busy"))).toBe(true);

    first.finish();
    const result = await running;
    expect([result.reused, first.submits.length]).toEqual([false, 1]);
    expect(existsSync(lockUri(root, "busy"))).toBe(false);

    // Rerun after it finished: reported from its manifest, no lock taken, nothing submitted.
    const rerun = await executeRun(runOptions(root, second, "busy"));
    expect([rerun.reused, second.submits.length, existsSync(lockUri(root, "busy"))]).toEqual([true, 0, false]);
  });

  test("a run that another submit completes while this one takes the lock is reported as reused, not submitted, and the lock is released", async () => {
    const root = freshRoot();
    const backend = new GatedBackend();
    const { plan } = await prepareRun({ ...runOptions(root, backend, "late"), engineConf: backend.sparkConf() });
    // The other submit finishes just as this one creates the lock.
    class FinishingStorage extends LocalStorage {
      override async putIfAbsent(uri: string, body: Buffer | string) {
        if (uri === lockUri(root, "late")) writeManifest(plan);
        return super.putIfAbsent(uri, body);
      }
    }
    const logs: string[] = [];
    const result = await executeRun({ ...runOptions(root, backend, "late"), storage: new FinishingStorage(), log: (m: string) => logs.push(m) });
    expect([result.reused, backend.submits.length, existsSync(lockUri(root, "late"))]).toEqual([true, 0, false]);
    expect(logs).toContain("run late is already complete with the same plan; not running it again");
  });
});

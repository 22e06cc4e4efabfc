/**
 * One submit of a run id at a time. A run lock is the object <root>/locks/<runId>.json, created
 * with an atomic create-if-absent (an exclusive local create, a conditional PUT on S3), so of
 * several processes submitting the same run id exactly one holds it; the others are refused with
 * a conflict (exit 11) that names the holder. A lock carries a lease (the run's timeout plus ten
 * minutes): a lock past its lease, or one held by a process of this host that no longer exists,
 * is stale and is taken over. A holder removes its lock when the run ends, and only while the
 * lock is still its own; a killed process leaves its lock until it goes stale.
 *
 * Not guaranteed: deleting is not conditional, so two processes taking over the same stale lock
 * at the same moment can both win when one deletes the lock after the other has already replaced
 * it; likewise a holder whose lease ran out can remove its successor's lock in the instant
 * between reading it and deleting it. executeRun narrows the first by checking that the lock is
 * still its own just before it submits.
 */
import { hostname } from "node:os";
import { SparkjobsError } from "../errors.js";
import { joinUri } from "../plan/build.js";
import { isS3, toLocalPath, type Storage } from "./storage.js";

export interface LockContent {
  runId: string;
  planSha256: string;
  /** The target the holder submits to. */
  target: string;
  host: string;
  pid: number;
  acquiredAt: string;
  expiresAt: string;
}

/** How long a lock outlives the run's own timeout before it counts as abandoned. */
export const LEASE_MARGIN_MS = 10 * 60 * 1000;

export function lockUri(root: string, runId: string): string {
  return joinUri(root, "locks", `${runId}.json`);
}

export function newLockContent(o: { runId: string; planSha256: string; target: string; timeoutMs: number; now: number; host: string; pid: number }): LockContent {
  return {
    runId: o.runId,
    planSha256: o.planSha256,
    target: o.target,
    host: o.host,
    pid: o.pid,
    acquiredAt: new Date(o.now).toISOString(),
    // A timeout beyond what a date can say still gives a date: the latest there is.
    expiresAt: new Date(Math.min(o.now + o.timeoutMs + LEASE_MARGIN_MS, 8.64e15)).toISOString(),
  };
}

/** The content of a lock object, or undefined when it is not one. */
export function parseLock(text: string): LockContent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = v as Partial<LockContent> | null;
  if (typeof o !== "object" || o === null) return undefined;
  const strings = [o.runId, o.planSha256, o.target, o.host, o.acquiredAt, o.expiresAt];
  if (strings.some((s) => typeof s !== "string") || !Number.isSafeInteger(o.pid)) return undefined;
  if (Number.isNaN(Date.parse(o.expiresAt!))) return undefined;
  return o as LockContent;
}

/** True when both name the same acquisition (same process, same moment). */
export function sameHolder(a: LockContent, b: LockContent): boolean {
  return a.host === b.host && a.pid === b.pid && a.acquiredAt === b.acquiredAt;
}

/** Why a lock may be taken over, or undefined while its holder may still be running. */
export function staleReason(lock: LockContent, here: { now: number; host: string; isAlive: (pid: number) => boolean }): string | undefined {
  if (Date.parse(lock.expiresAt) <= here.now) return `its lease ended at ${lock.expiresAt}`;
  if (lock.host === here.host && !here.isAlive(lock.pid)) return `process ${lock.pid} no longer runs on ${lock.host}`;
  return undefined;
}

const shellWord = (s: string) => (/^[A-Za-z0-9_\/.:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that removes a lock by hand. */
export function removeCommand(uri: string): string {
  return isS3(uri) ? `aws s3 rm ${shellWord(uri.replace(/^s3[an]?:/i, "s3:"))}` : `rm ${shellWord(toLocalPath(uri))}`;
}

/** The refusal when another submit holds the lock (or the lock cannot be read). */
export function conflictError(runId: string, uri: string, holder: LockContent | undefined): SparkjobsError {
  const wait = `another submit of run ${runId} is running: wait for it and rerun the same --run-id ${runId} to read its result (a complete run is reported, not run again)`;
  if (!holder) {
    return new SparkjobsError("conflict", `run ${runId} is locked by ${uri}, which is not a readable lock`, {
      fix: `${wait}; if no submit of it is running, remove the lock: ${removeCommand(uri)}`,
      retryable: true,
    });
  }
  return new SparkjobsError(
    "conflict",
    `run ${runId} is already being submitted by ${holder.host} pid ${holder.pid} (target ${holder.target}, since ${holder.acquiredAt}); lock ${uri}`,
    { fix: `${wait}; if that process is gone, the lock expires at ${holder.expiresAt} or can be removed: ${removeCommand(uri)}`, retryable: true },
  );
}

/** Whether a process of this host exists (one of another user's counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

export interface RunLock {
  uri: string;
  content: LockContent;
  /** Throws the conflict when the lock is no longer this holder's (taken over after its lease). */
  confirm(): Promise<void>;
  /** Removes the lock if it is still this holder's; later calls do nothing. */
  release(): Promise<void>;
}

export interface LockRequest {
  root: string;
  runId: string;
  planSha256: string;
  target: string;
  /** The run's timeout; the lease is this plus LEASE_MARGIN_MS. */
  timeoutMs: number;
}

export interface LockEnvironment {
  now: () => number;
  log?: (message: string) => void;
  host?: string;
  pid?: number;
  isAlive?: (pid: number) => boolean;
}

/** Locks this process holds, so a signal handler can release them before it exits. */
const held = new Set<RunLock>();

/** Releases every lock this process holds; errors are ignored (the locks expire on their own). */
export async function releaseHeldLocks(): Promise<void> {
  await Promise.all([...held].map((lock) => lock.release().catch(() => undefined)));
}

export async function acquireRunLock(storage: Storage, request: LockRequest, env: LockEnvironment): Promise<RunLock> {
  const host = env.host ?? hostname();
  const pid = env.pid ?? process.pid;
  const isAlive = env.isAlive ?? pidAlive;
  const uri = lockUri(request.root, request.runId);
  const mine = newLockContent({ ...request, now: env.now(), host, pid });
  const body = `${JSON.stringify(mine, null, 2)}\n`;
  let tookOver = false;
  let vanished = false;
  for (;;) {
    if (await storage.putIfAbsent(uri, body)) return hold(storage, uri, mine);
    const text = await storage.readText(uri);
    if (text === undefined) {
      // Released between our create and our read: try once more.
      if (vanished) {
        throw new SparkjobsError("conflict", `run ${request.runId}: its lock ${uri} came and went twice while this submit tried to take it; another submit of the run id is starting or ending`, {
          fix: `wait for the other submit and rerun the same --run-id ${request.runId} to read its result (a complete run is reported, not run again)`,
          retryable: true,
        });
      }
      vanished = true;
      continue;
    }
    const holder = parseLock(text);
    // Our own create, whose answer was lost and retried (S3 then says the object exists).
    if (holder && sameHolder(holder, mine)) return hold(storage, uri, mine);
    const stale = holder && staleReason(holder, { now: env.now(), host, isAlive });
    if (!holder || !stale || tookOver) throw conflictError(request.runId, uri, holder);
    env.log?.(`taking over the lock of run ${request.runId} held by ${holder.host} pid ${holder.pid} since ${holder.acquiredAt}: ${stale}`);
    await storage.delete(uri);
    tookOver = true;
  }
}

function hold(storage: Storage, uri: string, content: LockContent): RunLock {
  let released = false;
  const lock: RunLock = {
    uri,
    content,
    async confirm() {
      const text = await storage.readText(uri);
      if (text === undefined) {
        throw new SparkjobsError("conflict", `the lock ${uri} of run ${content.runId} was removed while this submit held it; not submitting`, {
          fix: `rerun with --run-id ${content.runId}; remove a lock only when no submit of its run id is running`,
        });
      }
      const now = parseLock(text);
      if (!now || !sameHolder(now, content)) throw conflictError(content.runId, uri, now);
    },
    async release() {
      if (released) return;
      released = true;
      held.delete(lock);
      const text = await storage.readText(uri);
      const now = text === undefined ? undefined : parseLock(text);
      if (now && sameHolder(now, content)) await storage.delete(uri);
    },
  };
  held.add(lock);
  return lock;
}

/**
 * A job's history: one entry per complete run of a series, written by the runner after the
 * manifest (<root>/history/<job>/<series>/<finished>_<run>.json). `readHistory` is the IO;
 * `historyRows` is pure.
 */
import { historyEntry, type HistoryEntry } from "../../../schemas/src/index.js";
import { joinUri } from "../plan/build.js";
import type { Storage } from "../stage/storage.js";

export interface History {
  job: string;
  series: string;
  uri: string;
  /** Oldest first. */
  entries: HistoryEntry[];
  /** Files under the folder that are not entries a run wrote. */
  unreadable: string[];
  /** The job's other series under the root. */
  otherSeries: string[];
}

export async function readHistory(storage: Storage, root: string, job: string, series: string, last: number): Promise<History> {
  const uri = joinUri(root, "history", job, series);
  const names = (await storage.list(uri)).filter((n) => n.endsWith(".json")).sort().slice(-last);
  const entries: HistoryEntry[] = [];
  const unreadable: string[] = [];
  for (const name of names) {
    const text = await storage.readText(joinUri(uri, name));
    let parsed: ReturnType<typeof historyEntry.safeParse> | undefined;
    try {
      parsed = historyEntry.safeParse(JSON.parse(text ?? ""));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) entries.push(parsed.data);
    else unreadable.push(joinUri(uri, name));
  }
  const otherSeries = (await storage.list(joinUri(root, "history", job))).filter((s) => s !== series).sort();
  return { job, series, uri, entries, unreadable, otherSeries };
}

/** One row per run: run, finished, rows per output, the gates that warned or failed. */
export function historyRows(entries: HistoryEntry[]): string[][] {
  return entries.map((e) => {
    const flagged = e.checks.filter((c) => c.outcome !== "ok").map((c) => `${c.name} ${c.outcome}${c.value !== undefined && c.value !== null ? ` (${Number(c.value.toPrecision(3))})` : ""}`);
    return [
      e.runId,
      e.finishedAt.replace(/\.\d+Z$/, "Z"),
      Object.entries(e.rows).map(([o, n]) => `${o} ${n}`).join(", "),
      flagged.length ? flagged.join(", ") : e.checks.length ? "all ok" : "-",
    ];
  });
}

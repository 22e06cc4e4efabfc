// The progress line on stderr: rewritten in place on a terminal, cleared before any other line;
// in a log, a plain line at most every interval.
import { describe, expect, test } from "vitest";
import { ProgressLine } from "../../submitter/src/report/progress.js";

function stream(isTTY: boolean, columns = 80) {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (s: string) => chunks.push(s) };
}

describe("the progress line", () => {
  test("on a terminal: one line rewritten in place, cleared before another line, cut to the width", () => {
    const out = stream(true, 40);
    const p = new ProgressLine(out);
    p.update("[progress] stage features | tasks 3 done | 4 s");
    p.update("[progress] stage features | tasks 9 done | 6 s");
    p.write("[runner] stage segmentation (mllib)");
    p.write("[sparkjobs] r: EXIT 0 after 9.0 s");
    p.update("[progress] stage a | tasks 1 done | 1 s and a long tail that does not fit in forty columns");
    expect(out.chunks).toEqual([
      "\r\x1b[2Kstage features | tasks 3 done | 4 s",
      "\r\x1b[2Kstage features | tasks 9 done | 6 s",
      "\r\x1b[2K",
      "[runner] stage segmentation (mllib)\n",
      "[sparkjobs] r: EXIT 0 after 9.0 s\n",
      `\r\x1b[2K${"stage a | tasks 1 done | 1 s and a long tail that does not fit".slice(0, 38)}…`,
    ]);
  });

  test("in a log: plain lines, at most one per interval, nothing to clear", () => {
    const out = stream(false);
    let now = 0;
    const p = new ProgressLine(out, 10_000, () => now);
    for (const t of [0, 2_000, 4_000, 10_000, 12_000, 20_500]) {
      now = t;
      p.update(`[progress] stage s | ${t / 1000} s`);
    }
    p.write("[runner] done");
    expect(out.chunks).toEqual(["[progress] stage s | 0 s\n", "[progress] stage s | 10 s\n", "[progress] stage s | 20.5 s\n", "[runner] done\n"]);
  });
});

/**
 * The README shows each command's real --help; this keeps it true.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```console\n\$ sparkjobs ([^\n]*)\n([\s\S]*?)\n```/g)];

describe("README", () => {
  it("shows the help of every command", () => {
    expect(blocks.map((b) => b[1])).toEqual(["--help", "run --help", "pipeline --help", "validate --help", "history --help", "report --help", "sources check --help", "plan --help", "stage --help", "list --help", "demo --help"]);
  });

  it.each(blocks.map((b) => [b[1]!, b[2]!]))("`sparkjobs %s` prints what the README shows", (args, shown) => {
    const out = execFileSync(process.execPath, [join(repo, "dist", "submitter", "src", "cli.js"), ...args.split(" ")], { encoding: "utf8", env: { ...process.env, COLUMNS: "80" } });
    expect(out.trimEnd()).toBe(shown);
  });

  it("starts with the two commands, and .ci/run calls the test command", () => {
    const first = readme.indexOf("```sh\nnpm start");
    expect(first).toBeGreaterThan(0);
    expect(readme.indexOf("npm test")).toBeGreaterThan(first);
    expect(readFileSync(join(repo, ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
  });
});

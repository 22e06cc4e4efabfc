/**
 * Integration tests need the built CLI and the pinned Spark. When either is missing they fail
 * here, loudly, and never skip: a green run always means Spark ran.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export default function setup(project: TestProject) {
  const repo = join(import.meta.dirname, "..", "..");
  const cli = join(repo, "dist", "submitter", "src", "cli.js");
  if (!existsSync(cli)) throw new Error(`integration tests need the built CLI at ${cli}: run npm test (it builds first)`);
  const venv = execFileSync(process.execPath, [join(repo, "dist", "submitter", "src", "env", "where.js"), "venv"], { encoding: "utf8" }).trim();
  if (!existsSync(join(venv, "bin", "spark-submit"))) {
    throw new Error(`integration tests need Spark: ${venv}/bin/spark-submit is missing; run bash scripts/bootstrap.sh`);
  }
  execFileSync("java", ["-version"], { stdio: "ignore" });
  const root = mkdtempSync(join(tmpdir(), "sparkjobs-it-"));
  project.provide("root", root);
  project.provide("venv", venv);
  return () => {
    if (!process.env.SPARKJOBS_KEEP_TEST_DATA) rmSync(root, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    root: string;
    venv: string;
  }
}

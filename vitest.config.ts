// The pinned AWS SDK runs on Node 20; its notice that later releases need Node 22 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Test runs are short and small, on two cores: the JVMs of local drivers collect with the serial
// collector (about half the resident memory of the default G1, and no concurrent GC threads
// competing for the cores). The settings of runs on clusters are in tests/spark-conf (SPARK_CONF_DIR
// of those runs only: a folder with files on the local driver's class path would keep its JVM from
// sharing classes, submitter/src/env/class-archive.ts).
process.env.SPARK_SUBMIT_OPTS ??= "-XX:+UseSerialGC";

// Two integration files run at a time, each with its own Spark applications: one often waits on
// the mini cluster's heartbeats and container starts, or on a JVM starting, while the other
// computes (the whole tier took 1,510 s against 1,931 s one file at a time, 0.78, the two
// cores 96% busy). They start in the order of tests/integration/file-order.json.
const order = (JSON.parse(readFileSync(join(import.meta.dirname, "tests", "integration", "file-order.json"), "utf8")) as { order: string[] }).order;

class StreamOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = order.indexOf(basename(f.moduleId));
      return i < 0 ? order.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  test: {
    // (A project's own sequencer is not used: the order is set here, for both projects.)
    sequence: { sequencer: StreamOrder },
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          maxWorkers: 2,
          testTimeout: 900_000,
          hookTimeout: 900_000,
          globalSetup: ["tests/integration/global-setup.ts"],
          setupFiles: ["tests/integration/file-start.ts"],
        },
      },
    ],
  },
});

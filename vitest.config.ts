// The pinned AWS SDK runs on Node 20; its notice that later releases need Node 22 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { defineConfig } from "vitest/config";

// Test runs are short and small, on two cores: the JVMs of local drivers collect with the serial
// collector (about half the resident memory of the default G1, and no concurrent GC threads
// competing for the cores). The settings of runs on clusters are in tests/spark-conf (SPARK_CONF_DIR
// of those runs only: a folder with files on the local driver's class path would keep its JVM from
// sharing classes, submitter/src/env/class-archive.ts).
process.env.SPARK_SUBMIT_OPTS ??= "-XX:+UseSerialGC";

// Unit tests run in parallel; tests that start Spark share two cores, so they run one file at a
// time (see scripts/test.sh, which runs the two projects in turn).
export default defineConfig({
  test: {
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
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 900_000,
          globalSetup: ["tests/integration/global-setup.ts"],
        },
      },
    ],
  },
});

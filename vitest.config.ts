// The pinned AWS SDK runs on Node 20; its notice that later releases need Node 22 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The Spark settings of test runs (the serial collector, short plan descriptions): tests/spark-conf.
process.env.SPARK_CONF_DIR ??= join(import.meta.dirname, "tests", "spark-conf");

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

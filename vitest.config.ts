import { defineConfig } from "vitest/config";

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

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          environment: "node",
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The domain rules on the fake runtime (tests/support/fake-runtime): no Docker, Postgres
        // or Redis, and no global setup. `npm run test:fast` runs it with the unit project.
        test: {
          name: "fast",
          include: ["tests/fast/**/*.test.ts"],
          environment: "node",
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          // Real Docker, Postgres and Redis: generous timeouts, and files in parallel
          // only as far as two cores allow.
          testTimeout: 60_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          globalSetup: ["tests/support/global-setup.ts"],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

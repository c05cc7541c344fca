// The folder rule of the import graph (scripts/import-layers.ts): back arrows are found, the tRPC type bridge is
// allowed only as `import type`. The real graph is checked by `npm run graph:check`.
import { describe, expect, it } from "vitest";
import { importsOnlyTypes, layerViolations } from "../../scripts/import-layers";

const noSource = () => "";

describe("import layers", () => {
  it("allows arrows down to protocol/ and common/", () => {
    const graph = {
      "app/page.tsx": ["app/trpc.ts", "protocol/ids.ts", "common/logger.ts"],
      "server/main.ts": ["server/config.ts", "protocol/ids.ts", "common/logger.ts"],
      "runtime-worker/main.ts": ["protocol/worker-messages.ts", "common/logger.ts"],
      "protocol/ids.ts": ["common/logger.ts"],
    };
    expect(layerViolations(graph, noSource)).toEqual([]);
  });

  it("finds back arrows and server <-> worker imports", () => {
    const graph = {
      "protocol/ids.ts": ["server/config.ts"],
      "common/logger.ts": ["protocol/ids.ts"],
      "server/main.ts": ["runtime-worker/driver.ts", "app/trpc.ts"],
      "runtime-worker/main.ts": ["server/config.ts"],
    };
    const found = layerViolations(graph, noSource).map(({ from, to }) => `${from} -> ${to}`);
    expect(found.sort()).toEqual([
      "common/logger.ts -> protocol/ids.ts",
      "protocol/ids.ts -> server/config.ts",
      "runtime-worker/main.ts -> server/config.ts",
      "server/main.ts -> app/trpc.ts",
      "server/main.ts -> runtime-worker/driver.ts",
    ]);
  });

  it("lets app/ take the router's type from server/trpc/root.ts, and nothing at run time", () => {
    const graph = { "app/trpc.ts": ["server/trpc/root.ts"] };
    expect(layerViolations(graph, () => 'import type { AppRouter } from "../server/trpc/root";\n')).toEqual([]);
    expect(layerViolations(graph, () => 'import { appRouter } from "../server/trpc/root";\n')).toHaveLength(1);
    expect(layerViolations({ "app/trpc.ts": ["server/config.ts"] }, () => 'import type { Config } from "../server/config";\n')).toHaveLength(1);
  });

  it("reads type-only imports by the path they resolve to", () => {
    const source = 'import type { AppRouter } from "../../../server/trpc/root";\nimport { z } from "zod";\n';
    expect(importsOnlyTypes("app/courses/[courseId]/authoring-types.ts", source, "server/trpc/root.ts")).toBe(true);
    expect(importsOnlyTypes("app/courses/[courseId]/authoring-types.ts", source, "server/config.ts")).toBe(false);
  });
});

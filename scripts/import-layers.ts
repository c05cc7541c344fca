// The folder-level rule of the import graph: which top-level folder may import which. Kept apart from
// scripts/check-graph.ts (which asks madge for the graph) so a unit test can feed it a graph of its own.
import { readFileSync } from "node:fs";
import path from "node:path";

export const LAYERS = ["app", "server", "runtime-worker", "protocol", "common"] as const;
export type Layer = (typeof LAYERS)[number];

/**
 * Arrows point down only: the browser, the server and the worker each use the shared contract
 * (protocol/) and helpers (common/); protocol/ uses common/; nothing imports app/; the server and
 * the worker never import each other (they meet only on the socket described in protocol/).
 */
export const ALLOWED: Record<Layer, readonly Layer[]> = {
  app: ["app", "protocol", "common"],
  server: ["server", "protocol", "common"],
  "runtime-worker": ["runtime-worker", "protocol", "common"],
  protocol: ["protocol", "common"],
  common: ["common"],
};

/** The one sanctioned crossing: the browser's tRPC client takes the router's *type* (erased at build). */
export const TYPE_ONLY_BRIDGE = "server/trpc/root.ts";

export interface Violation {
  from: string;
  to: string;
  why: string;
}

const layerOf = (file: string): Layer | null => ((LAYERS as readonly string[]).find((layer) => file.startsWith(`${layer}/`)) as Layer | undefined) ?? null;

/** True when every import of `target` in `file` (its text: `source`) is `import type` / `export type`: no runtime edge. */
export function importsOnlyTypes(file: string, source: string, target: string): boolean {
  const stem = target.replace(/\.tsx?$/, "");
  const statements = [...source.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+["']([^"']+)["']/gm)];
  const hits = statements.filter((match) => match[2]!.startsWith(".") && path.posix.join(path.posix.dirname(file), match[2]!) === stem);
  return hits.length > 0 && hits.every((match) => Boolean(match[1]));
}

/** Every import that breaks the folder rule; `read` gives a file's source (for the type-only bridge). */
export function layerViolations(graph: Record<string, string[]>, read: (file: string) => string = (file) => readFileSync(file, "utf8")): Violation[] {
  const violations: Violation[] = [];
  for (const [from, imports] of Object.entries(graph)) {
    const fromLayer = layerOf(from);
    if (!fromLayer) continue;
    for (const to of imports) {
      const toLayer = layerOf(to);
      if (!toLayer || ALLOWED[fromLayer].includes(toLayer)) continue;
      if (fromLayer === "app" && to === TYPE_ONLY_BRIDGE) {
        if (!importsOnlyTypes(from, read(from), to)) violations.push({ from, to, why: `app/ may take only types from ${TYPE_ONLY_BRIDGE} (use import type)` });
        continue;
      }
      violations.push({ from, to, why: `${fromLayer}/ may import only ${ALLOWED[fromLayer].join(", ")}` });
    }
  }
  return violations;
}

// `npm run graph:check` (and scripts/test.sh): the import graph of the product code has no cycles and no
// folder-level back arrows. madge finds the graph and the cycles; the folder rule (scripts/import-layers.ts)
// is a few lines of our own because madge has no such check and dependency-cruiser is a large dependency for six rules.
import madge from "madge";
import { LAYERS, layerViolations } from "./import-layers";

const graph = await madge([...LAYERS], {
  fileExtensions: ["ts", "tsx"],
  tsConfig: "tsconfig.json",
  excludeRegExp: [/^generated\//, /\.d\.ts$/],
});

let failed = false;
const cycles = graph.circular();
if (cycles.length > 0) {
  failed = true;
  console.error(`[graph] ${cycles.length} import cycle(s):`);
  for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].join(" -> ")}`);
}
const violations = layerViolations(graph.obj());
if (violations.length > 0) {
  failed = true;
  console.error(`[graph] ${violations.length} folder-level back arrow(s):`);
  for (const { from, to, why } of violations) console.error(`  ${from} -> ${to}: ${why}`);
}
// A relative import madge cannot resolve would hide an arrow; packages it skips are outside the graph anyway.
const unresolved = graph.warnings().skipped.filter((name) => name.startsWith("."));
if (unresolved.length > 0) {
  failed = true;
  console.error(`[graph] unresolved relative imports: ${unresolved.join(", ")}`);
}
if (failed) process.exit(1);
console.log(`[graph] ${Object.keys(graph.obj()).length} files: no cycles, no back arrows`);

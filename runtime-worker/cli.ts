/**
 * `npm run worker -- <command>`: the worker host's commands.
 *   check   what this host needs, each item checked; exits 1 when something is missing
 *   start   runs the worker (runtime-worker/main.ts; `start --print-config` lists its settings)
 */
import { formatReport, checkHost } from "./host-check/requirements";
import { gatherHostFacts } from "./host-check/probes";

const USAGE = `usage: npm run worker -- <command>
  check   print what a worker host needs and check each item (exit 1 when something is missing)
  start   run the worker (--print-config lists its settings)`;

const [command] = process.argv.slice(2);
if (command === "check") {
  const results = checkHost(await gatherHostFacts());
  console.log(formatReport(results));
  process.exit(results.some((result) => result.verdict === "missing") ? 1 : 0);
} else if (command === "start") {
  await import("./main");
} else {
  console.error(USAGE);
  process.exit(command === undefined || command === "help" || command === "--help" ? 0 : 2);
}

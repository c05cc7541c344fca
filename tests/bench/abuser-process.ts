/**
 * The abusing student's browser for bench (i), as a process of its own (a real abuser's
 * browser is another machine: its work must not slow the bench process that times the
 * bystander). Reads one JSON line of instructions from argv, starts what it is told (a
 * truecolour flood acknowledged as fast as it arrives, a resize loop, an attach loop from a
 * second socket), and on SIGTERM presses Ctrl-C, prints its counts as JSON and exits.
 */
import { BrowserToServer } from "../../protocol/browser-messages";
import { attachTerminal, openTerminalSocket, terminalLink } from "./browser-socket";
import { sleep } from "./measure";
import { waitForOutput } from "./terminal-link";

interface Orders {
  url: string;
  cookie: string;
  environmentId: string;
  flood: boolean;
  resizes: boolean;
  attaches: boolean;
}

const orders = JSON.parse(process.argv[2] ?? "{}") as Orders;
export const TRUECOLOUR_FLOOD = `yes "$(for i in $(seq 1 40); do printf '\\033[38;2;%d;%d;%dm#\\033[48;2;%d;40;90mX' $i $((i*3)) $((i*5)) $i; done)"\r`;

const counts = { floodBytes: 0, resizesSent: 0, attachesSent: 0, attachesRefused: 0 };
let running = true;

const socket = await openTerminalSocket(orders.url, orders.cookie);
const link = terminalLink(socket, orders.environmentId);
const prompt = waitForOutput(link, /\$ /, 30_000);
const reply = await attachTerminal(socket, orders.environmentId);
if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
if (!reply.screen.includes("$ ")) await prompt;
else prompt.catch(() => undefined);
link.onData((chunk) => {
  counts.floodBytes += chunk.byteLength;
});
if (orders.flood) link.write(TRUECOLOUR_FLOOD);

const loops: Promise<void>[] = [];
if (orders.resizes) {
  loops.push(
    (async () => {
      for (let i = 0; running; i++) {
        const size = i % 2 ? { cols: 500, rows: 100 } : { cols: 80, rows: 24 }; // the largest screen allowed, and back
        socket.emit(BrowserToServer.resize, { environmentId: orders.environmentId, terminalId: "main", ...size });
        counts.resizesSent += 1;
        await sleep(5);
      }
    })(),
  );
}
if (orders.attaches) {
  const attacher = await openTerminalSocket(orders.url, orders.cookie);
  loops.push(
    (async () => {
      while (running) {
        counts.attachesSent += 1;
        const again = await attachTerminal(attacher, orders.environmentId, 30_000).catch(() => null);
        if (!again?.ok) counts.attachesRefused += 1;
      }
      attacher.close();
    })(),
  );
}
process.stdout.write("ready\n");

process.on("SIGTERM", () => {
  running = false;
  link.write("\x03");
  void Promise.all(loops).then(() => {
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    socket.close();
    process.exit(0);
  });
});

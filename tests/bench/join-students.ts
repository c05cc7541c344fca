/**
 * Students as a workshop's join link makes them, over HTTP against a platform the bench
 * reaches only by its URL (the separate processes of tests/bench/platform-processes.ts):
 * join.preview, then join.join with a name (no password), which sets the session cookie
 * the browser keeps; then what the lab page does (startForLab, the /terminal socket).
 *
 * Each student sends an address of their own in X-Forwarded-For: in a real class each is
 * their own machine, while the bench is one. The product's join limit per address stays as
 * it is; the bench's server believes X-Forwarded-For from loopback (SHELLROOM_TRUSTED_PROXIES),
 * as a deployment behind a reverse proxy does.
 */
import { sessionCookieOf, startForLabUntilRunning, trpcMutation } from "./bench-http";
import { attachTerminal, openTerminalSocket, terminalLink } from "./browser-socket";
import { now } from "./measure";
import type { StudentSide } from "./platform-shell";

export interface JoinedStudent {
  cookie: string;
  /** The lab the join link sends the student to. */
  firstLabId: string;
  /** join.preview + join.join, as the page calls them. */
  joinMs: number;
}

/** The n-th student's address: 10.a.b.c, distinct for every n below 2^24. */
export const studentAddress = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Opens the join link and joins with a name, as a visitor with no cookies does. */
export async function joinWorkshop(url: string, code: string, displayName: string, address: string): Promise<JoinedStudent> {
  const began = now();
  const headers = { "x-forwarded-for": address };
  const preview = await fetch(`${url}/api/trpc/join.preview?input=${encodeURIComponent(JSON.stringify({ code }))}`, { headers });
  if (!preview.ok) throw new Error(`join.preview failed (${preview.status}): ${(await preview.text()).slice(0, 300)}`);
  const response = await fetch(`${url}/api/trpc/join.join`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url, ...headers },
    body: JSON.stringify({ code, displayName }),
  });
  const text = await response.text();
  const cookie = sessionCookieOf(response);
  const firstLabId = (JSON.parse(text) as { result?: { data?: { firstLabId?: string | null } } }).result?.data?.firstLabId;
  if (!response.ok || !cookie || !firstLabId) throw new Error(`join.join failed (${response.status}): ${text.slice(0, 300)}`);
  return { cookie, firstLabId, joinMs: now() - began };
}

/**
 * The student side of platformShell for a platform at `url`: new students join through
 * the link `code` (numbered from `firstNumber`, each with its own address). Starts need
 * the lab named (the join link's firstLabId).
 */
export function joiningStudents(url: string, code: string, options: { firstNumber?: number } = {}): StudentSide {
  let next = options.firstNumber ?? 1;
  return {
    async newStudent() {
      const n = next++;
      return joinWorkshop(url, code, `Bench Student ${n}`, studentAddress(n));
    },
    async startEnvironment(cookie, labId, onQueued) {
      if (!labId) throw new Error("startEnvironment: name the lab (the join link's firstLabId)");
      return startForLabUntilRunning((procedure, input) => trpcMutation(url, { cookie }, procedure, input), labId, onQueued);
    },
    connect: (cookie) => openTerminalSocket(url, cookie),
    attach: (socket, environmentId, timeoutMs) => attachTerminal(socket, environmentId, timeoutMs),
    terminal: (socket, environmentId) => terminalLink(socket, environmentId),
  };
}

/**
 * The benchmark's students and instructors over HTTP, as a browser's fetch sends them: tRPC
 * mutations, signing in, and startForLab until the environment runs.
 */
import { SESSION_COOKIE } from "../../server/auth/cookies";

/** Any tRPC mutation over HTTP, as the browser sends it (with its Origin); throws with the error text. */
export async function trpcMutation<T>(url: string, headers: Record<string, string>, procedure: string, input: unknown): Promise<T> {
  const response = await fetch(`${url}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url, ...headers },
    body: JSON.stringify(input),
  });
  const text = await response.text();
  let body: { result?: { data?: T } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (!response.ok || !body?.result) throw new Error(`${procedure} failed (${response.status}): ${text.slice(0, 500)}`);
  return body.result.data as T;
}

/** The session cookie out of a response's Set-Cookie headers (undefined when it set none). */
export const sessionCookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0]!)
    .find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));

/** Signs in through tRPC auth.signIn; returns the Cookie header value. */
export async function signInOverHttp(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email, password }),
  });
  const session = sessionCookieOf(response);
  if (!response.ok || !session) throw new Error(`auth.signIn failed (${response.status}): ${(await response.text()).slice(0, 500)}`);
  return session;
}

/** startForLab's answer when the admission queue holds the start: the page polls until it runs. */
export interface QueuedReply {
  state: "QUEUED";
  position?: number;
  estimateSeconds?: number;
}

/**
 * tRPC environment.startForLab until the environment runs, as the lab page does: a QUEUED
 * reply (the admission queue) is shown and asked again every second; RUNNING gives the id.
 */
export async function startForLabUntilRunning(
  call: (procedure: string, input: unknown) => Promise<unknown>,
  labId: string,
  onQueued?: (reply: QueuedReply) => void,
  timeoutMs = 15 * 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = (await call("environment.startForLab", { labId })) as { state?: unknown; environmentId?: unknown } | undefined;
    if (result?.state === "QUEUED") {
      onQueued?.(result as QueuedReply);
      if (Date.now() > deadline) throw new Error(`startForLab: still queued after ${timeoutMs / 1000} s: ${JSON.stringify(result).slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (typeof result?.environmentId !== "string") throw new Error(`startForLab returned no environment id: ${JSON.stringify(result).slice(0, 300)}`);
    return result.environmentId;
  }
}

/**
 * Size limits on tRPC requests, enforced before anything is buffered. A declared
 * Content-Length over the limit is answered 413 at once and the body is never read; a
 * chunked body is counted as it arrives (tRPC's maxBodySize) and refused the moment it
 * passes the limit. Either way the connection is closed, so the rest is never received.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const MiB = 1024 * 1024;

/** Enough for any form in the app: inputs are capped far below this by their zod schemas. */
export const DEFAULT_BODY_LIMIT = MiB;

/** Procedures that genuinely take more: a whole lab (steps with scripts) or a lab folder. */
export const PROCEDURE_BODY_LIMITS: Readonly<Record<string, number>> = {
  "authoring.importLab": 16 * MiB,
  "authoring.saveLab": 16 * MiB,
};

/** Calls per tRPC batch; the app's client splits its batches below this (app/providers.tsx). */
export const MAX_BATCH_CALLS = 20;

/** The procedures a tRPC URL names (one, or a comma-separated batch). */
export function procedurePaths(url: string, basePath: string): string[] {
  const path = url.slice(basePath.length).split("?")[0] ?? "";
  try {
    return decodeURIComponent(path).split(",");
  } catch {
    return [path];
  }
}

/** The largest body any procedure in the request may take. */
export function bodyLimitFor(paths: readonly string[]): number {
  return Math.max(DEFAULT_BODY_LIMIT, ...paths.map((path) => PROCEDURE_BODY_LIMITS[path] ?? DEFAULT_BODY_LIMIT));
}

/**
 * Answers 413 when the declared length is over `limit`; true when it did. The reply has
 * tRPC's error shape (one per call of a batch), so the app's client shows the message.
 */
export function refusedByDeclaredLength(req: IncomingMessage, res: ServerResponse, limit: number, paths: readonly string[]): boolean {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!(declared > limit)) return false;
  const error = (path: string) => ({
    error: {
      message: `The request is larger than the ${Math.floor(limit / 1024)} KiB allowed.`,
      code: -32013,
      data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413, path },
    },
  });
  const batch = new URL(req.url ?? "/", "http://local").searchParams.get("batch") === "1";
  res.writeHead(413, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify(batch ? paths.map(error) : error(paths[0] ?? "")));
  return true;
}

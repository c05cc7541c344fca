/**
 * The REST surface at /api/v1 (trpc-to-openapi over the same routers, so every call passes the
 * same rungs and access policy as tRPC), and its OpenAPI document at /api/v1/openapi.json.
 * It takes API tokens only: cookies are ignored, so no page can be made to call it (no CSRF).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { DEFAULT_BODY_LIMIT, PROCEDURE_BODY_LIMITS, refusedByDeclaredLength } from "../auth/request-limits";
import { appRouter } from "../trpc/root";
import type { Context } from "../trpc/trpc";
import { REST_BASE_PATH, openApiDocument } from "./openapi-document";

/** A lab push carries a whole folder. */
const LAB_PUSH_PATH = /^\/courses\/[^/]+\/labs\/?$/;

export function restApi(
  createContext: (req: IncomingMessage, res: ServerResponse) => Promise<Context>,
  publicUrl: string | undefined,
  onError: (path: string | undefined, message: string) => void,
) {
  const handlerFor = (maxBodySize: number) =>
    createOpenApiNodeHttpHandler<typeof appRouter, IncomingMessage, ServerResponse>({
      router: appRouter,
      maxBodySize,
      createContext: ({ req, res }) => createContext(req, res),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") onError(path, error.cause?.message ?? error.message);
      },
    });
  const small = handlerFor(DEFAULT_BODY_LIMIT);
  const large = handlerFor(PROCEDURE_BODY_LIMITS["authoring.importLab"]!);
  const documents = new Map<string, string>();

  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://local");
    const path = url.pathname.slice(REST_BASE_PATH.length) || "/";
    if (path === "/openapi.json" && (req.method === "GET" || req.method === "HEAD")) {
      const origin = publicUrl ? new URL(publicUrl).origin : `http://${req.headers.host ?? "localhost"}`;
      let document = documents.get(origin);
      if (!document) {
        document = JSON.stringify(openApiDocument(origin));
        // Without a public URL the origin comes from Host: a few are kept, not one per made-up Host.
        if (documents.size < 8) documents.set(origin, document);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : document);
      return;
    }
    const limit = req.method === "POST" && LAB_PUSH_PATH.test(path) ? PROCEDURE_BODY_LIMITS["authoring.importLab"]! : DEFAULT_BODY_LIMIT;
    if (refusedByDeclaredLength(req, res, limit, [path])) return;
    // The routes are declared without the prefix (meta.openapi.path).
    req.url = `${path}${url.search}`;
    return (limit === DEFAULT_BODY_LIMIT ? small : large)(req, res);
  };
}

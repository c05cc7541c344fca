/**
 * The OpenAPI document of the REST surface, generated from the tRPC procedures that carry
 * `meta.openapi` (and so a `scope` and an output schema): the routers are the one source.
 */
import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import { API_SCOPES } from "../auth/access";
import { appRouter } from "../trpc/root";

export const REST_BASE_PATH = "/api/v1";

export function openApiDocument(origin: string): OpenAPIObject {
  return generateOpenApiDocument(appRouter, {
    title: "Shellroom API",
    description: `Courses, members, labs, environments and progress for integrations. Authenticate with \`Authorization: Bearer <token>\` (an API token from the account page, or a service token from an administrator). Scopes: ${API_SCOPES.join(", ")}; \`read\` covers every read.`,
    version: "1.0.0",
    openApiVersion: "3.1.0",
    baseUrl: `${origin}${REST_BASE_PATH}`,
    tags: ["courses", "members", "labs", "environments", "progress"],
    securitySchemes: { Authorization: { type: "http", scheme: "bearer", description: "An API token (shr_...)" } },
  });
}

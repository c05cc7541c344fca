/**
 * API token scopes in the access policy: what each scope reaches, and a scan of the routers:
 * a token reaches only procedures that name a scope, a mutation only with a write scope, and
 * every REST route is such a procedure.
 */
import { describe, expect, it } from "vitest";
import { API_SCOPES, isWriteScope, tokenMayCall, type ApiScope } from "../../server/auth/access";
import { bearerTokenOf, generateApiToken } from "../../server/auth/api-tokens";
import { appRouter } from "../../server/trpc/root";
import type { ProcedureMeta } from "../../server/trpc/trpc";

describe("what a token's scopes let it call", () => {
  const cases: Array<[granted: ApiScope[], required: ApiScope | undefined, allowed: boolean]> = [
    [["read"], "read", true],
    [["read"], "progress:read", true],
    [["progress:read"], "progress:read", true],
    [["progress:read"], "read", false],
    [["read"], "courses:write", false],
    [["read"], "labs:write", false],
    [["read"], "environments:write", false],
    [["labs:write"], "labs:write", true],
    [["labs:write"], "courses:write", false],
    [["labs:write"], "read", false],
    [[...API_SCOPES], undefined, false],
  ];
  it.each(cases)("granted %j, needed %s: %s", (granted, required, allowed) => {
    expect(tokenMayCall(granted, required)).toBe(allowed);
  });
});

describe("the routers' scopes", () => {
  const procedures = Object.entries(
    (appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: string; meta?: ProcedureMeta } }> } })._def.procedures,
  );

  it("a mutation names a write scope, a query a read scope", () => {
    const wrong = procedures
      .filter(([, procedure]) => procedure._def.meta?.scope)
      .filter(([, procedure]) => isWriteScope(procedure._def.meta!.scope!) !== (procedure._def.type === "mutation"))
      .map(([path]) => path);
    expect(wrong).toEqual([]);
  });

  it("every REST route names the scope a token needs for it", () => {
    const unscoped = procedures.filter(([, procedure]) => procedure._def.meta?.openapi && !procedure._def.meta.scope).map(([path]) => path);
    expect(unscoped).toEqual([]);
  });

  it("every procedure refuses an invalid token before it does anything", async () => {
    const caller = appRouter.createCaller({ apiToken: "invalid", auth: null } as never) as unknown as Record<
      string,
      Record<string, (input: unknown) => Promise<unknown>>
    >;
    const answers = await Promise.all(
      procedures.map(async ([path]) => {
        const [group, name] = path.split(".") as [string, string];
        try {
          await caller[group]![name]!({});
          return `${path}: answered`;
        } catch (error) {
          return (error as Error).message === "This API token is unknown, revoked or expired." ? null : `${path}: ${(error as Error).message}`;
        }
      }),
    );
    expect(answers.filter(Boolean)).toEqual([]);
  });

  it("making tokens, webhooks and credentials is for people only", () => {
    const reachable = procedures
      .filter(([path, procedure]) => /^(apiToken|webhook|auth|admin)\./.test(path) && procedure._def.meta?.scope)
      .map(([path]) => path);
    expect(reachable).toEqual([]);
  });
});

describe("bearer tokens", () => {
  it("reads the token of an Authorization header", () => {
    const token = generateApiToken();
    expect(token).toMatch(/^shr_[a-z2-7]{32}$/);
    expect(bearerTokenOf(`Bearer ${token}`)).toBe(token);
    expect(bearerTokenOf(`bearer  ${token} `)).toBe(token);
    expect(bearerTokenOf(undefined)).toBeNull();
    expect(bearerTokenOf(`Basic ${token}`)).toBeNull();
  });
});

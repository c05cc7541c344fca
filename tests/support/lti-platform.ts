/**
 * An LMS playing the LTI 1.3 platform, built from the specifications' message formats
 * (LTI Core 1.3, the 1EdTech Security Framework, AGS 2.0, NRPS 2.0, Deep Linking 2.0) and
 * signed with jose. It serves on loopback: its JWKS, an OIDC authorization endpoint that
 * answers with an auto-posting id_token form (as an LMS does), a token endpoint that
 * verifies the tool's client assertion against the tool's JWKS, line items that record the
 * scores they receive, a memberships endpoint, and a deep linking return URL that keeps
 * what it is sent. It never reads Shellroom's code: only the claim names (server/lti/claims.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { CLAIM, DEEP_LINKING_REQUEST, LTI_VERSION, MEDIA_TYPE, RESOURCE_LINK_REQUEST, SCOPE } from "../../server/lti/claims";

export const ROLE = {
  instructor: "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
  learner: "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
  student: "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
} as const;

export interface LaunchSpec {
  sub: string;
  name?: string;
  roles: string[];
  context: { id: string; title?: string };
  /** A resource link launch (default) or a deep linking request. */
  deepLinking?: boolean;
  resourceLink?: { id: string; title?: string };
  custom?: Record<string, string>;
  /** Adds the AGS claim with this line item (under the fixture) for the resource link. */
  lineItem?: string;
  /** Adds the NRPS claim for the context. */
  roster?: boolean;
  /** Claims to replace or add in the id_token (aud, exp, deployment ...), for refusals. */
  overrides?: Record<string, unknown>;
  /** Signs with a key the platform does not publish. */
  foreignKey?: boolean;
}

export interface RecordedScore {
  lineItem: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

export interface RosterMember {
  user_id: string;
  name: string;
  roles: string[];
  status?: "Active" | "Inactive";
}

export interface LtiPlatformFixture {
  issuer: string;
  clientId: string;
  deploymentId: string;
  authUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  /** The tool's site (its JWKS verifies client assertions); set before any service call. */
  toolUrl: string;
  scores: RecordedScore[];
  /** Client assertions the token endpoint accepted (their claims). */
  assertions: JWTPayload[];
  /** Deep linking responses posted back (the raw JWT). */
  deepLinkingResponses: string[];
  /** Members returned for a context's memberships URL. */
  rosters: Map<string, RosterMember[]>;
  /** Line item URLs answer 503 this many times before accepting scores. */
  failScores: number;
  lineItemUrl(id: string): string;
  /** The LMS's course page framing the tool's launch of `spec`. */
  coursePageUrl(spec: LaunchSpec): string;
  /** The URL a browser opens to start a launch (the LMS's link): the tool's login initiation. */
  loginUrl(spec: LaunchSpec): string;
  /** Drives a launch as a browser would, up to the tool's answer to the id_token. */
  launch(spec: LaunchSpec): Promise<LaunchResult>;
  /** Posts a launch form to the tool again (a replay). */
  post(form: LaunchForm): Promise<Response>;
  close(): Promise<void>;
}

export interface LaunchForm {
  action: string;
  id_token: string;
  state: string;
}

export interface LaunchResult {
  response: Response;
  form: LaunchForm;
  /** The session cookie the tool set (Cookie header value), if any. */
  cookie: string | undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const escape = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** The hidden inputs and action of an auto-posting form (the platform's, or the tool's). */
export function formFields(html: string): { action: string; fields: Record<string, string> } {
  const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&");
  const action = unescape(/<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? "");
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[unescape(match[1]!)] = unescape(match[2]!);
  return { action, fields };
}

export async function startLtiPlatform(options: { clientId?: string; deploymentId?: string } = {}): Promise<LtiPlatformFixture> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const kid = "platform-key-1";
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const specs = new Map<string, LaunchSpec>();
  const tokens = new Map<string, string[]>(); // access token -> scopes
  let toolKeys: ReturnType<typeof createRemoteJWKSet> | undefined;
  let hintCounter = 0;

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fixture: LtiPlatformFixture = {
    issuer,
    clientId: options.clientId ?? "shellroom-client",
    deploymentId: options.deploymentId ?? "deployment-1",
    authUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    toolUrl: "",
    scores: [],
    assertions: [],
    deepLinkingResponses: [],
    rosters: new Map(),
    failScores: 0,
    lineItemUrl: (id) => `${issuer}/lineitems/${id}`,
    coursePageUrl: (spec) => `${issuer}/course-page?launch=${encodeURIComponent(fixture.loginUrl(spec))}`,

    loginUrl(spec) {
      const hint = `launch-${++hintCounter}`;
      specs.set(hint, spec);
      const url = new URL(`${fixture.toolUrl}/api/lti/login`);
      url.searchParams.set("iss", issuer);
      url.searchParams.set("login_hint", spec.sub);
      url.searchParams.set("lti_message_hint", hint);
      url.searchParams.set("target_link_uri", `${fixture.toolUrl}/api/lti/launch`);
      url.searchParams.set("client_id", fixture.clientId);
      return url.toString();
    },

    async launch(spec) {
      const login = await fetch(fixture.loginUrl(spec), { redirect: "manual" });
      if (login.status !== 302) throw new Error(`login initiation answered ${login.status}: ${await login.text()}`);
      const authorization = await fetch(login.headers.get("location")!);
      const { action, fields } = formFields(await authorization.text());
      const form = { action, id_token: fields.id_token!, state: fields.state! };
      const response = await fixture.post(form);
      const cookie = response.headers
        .getSetCookie()
        .map((line) => line.split(";")[0]!)
        .find((pair) => pair.startsWith("shellroom_session="));
      return { response, form, cookie };
    },

    post(form) {
      return fetch(form.action, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: issuer },
        body: new URLSearchParams({ id_token: form.id_token, state: form.state }),
      });
    },

    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  async function idToken(spec: LaunchSpec, nonce: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload & Record<string, unknown> = {
      iss: issuer,
      aud: fixture.clientId,
      sub: spec.sub,
      iat: now,
      exp: now + 300,
      nonce,
      name: spec.name,
      [CLAIM.messageType]: spec.deepLinking ? DEEP_LINKING_REQUEST : RESOURCE_LINK_REQUEST,
      [CLAIM.version]: LTI_VERSION,
      [CLAIM.deploymentId]: fixture.deploymentId,
      [CLAIM.targetLinkUri]: `${fixture.toolUrl}/api/lti/launch`,
      [CLAIM.roles]: spec.roles,
      [CLAIM.context]: { id: spec.context.id, title: spec.context.title, type: ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"] },
    };
    if (!spec.deepLinking) claims[CLAIM.resourceLink] = spec.resourceLink ?? { id: `link-${spec.context.id}` };
    if (spec.custom) claims[CLAIM.custom] = spec.custom;
    if (spec.lineItem) {
      claims[CLAIM.ags] = { scope: [SCOPE.lineItem, SCOPE.score], lineitems: `${issuer}/lineitems`, lineitem: fixture.lineItemUrl(spec.lineItem) };
    }
    if (spec.roster) claims[CLAIM.nrps] = { context_memberships_url: `${issuer}/memberships/${spec.context.id}`, service_versions: ["2.0"] };
    if (spec.deepLinking) {
      claims[CLAIM.deepLinkingSettings] = {
        deep_link_return_url: `${issuer}/deep-link-return`,
        accept_types: ["ltiResourceLink"],
        accept_presentation_document_targets: ["iframe", "window"],
        accept_multiple: false,
        data: "platform-opaque-data",
      };
    }
    Object.assign(claims, spec.overrides);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: spec.foreignKey ? "not-published" : kid, typ: "JWT" })
      .sign(spec.foreignKey ? foreign.privateKey : privateKey);
  }

  function bearerScopes(req: IncomingMessage): string[] {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    return (token && tokens.get(token)) || [];
  }

  function json(res: ServerResponse, status: number, body: unknown, contentType = "application/json") {
    res.writeHead(status, { "content-type": contentType });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", issuer);
    if (url.pathname === "/jwks") return json(res, 200, { keys: [publicJwk] });

    if (url.pathname === "/course-page") {
      // The LMS's course page: the tool opens in an iframe, as LMSs place LTI links.
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<!doctype html><html><body><h1>LMS course page</h1><iframe title="Shellroom" src="${escape(url.searchParams.get("launch") ?? "")}" style="width:1400px;height:850px"></iframe></body></html>`,
      );
      return;
    }

    if (url.pathname === "/auth") {
      // The OIDC authentication request (Security Framework 5.1.1.2): checked as a platform does.
      const q = url.searchParams;
      const spec = specs.get(q.get("lti_message_hint") ?? "");
      const expected = `${fixture.toolUrl}/api/lti/launch`;
      if (
        !spec ||
        q.get("scope") !== "openid" ||
        q.get("response_type") !== "id_token" ||
        q.get("response_mode") !== "form_post" ||
        q.get("prompt") !== "none" ||
        q.get("client_id") !== fixture.clientId ||
        q.get("redirect_uri") !== expected ||
        q.get("login_hint") !== spec.sub ||
        !q.get("state") ||
        !q.get("nonce")
      ) {
        return json(res, 400, { error: "invalid_request" });
      }
      const token = await idToken(spec, q.get("nonce")!);
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<!doctype html><html><body><form method="post" action="${escape(expected)}">` +
          `<input type="hidden" name="id_token" value="${escape(token)}"><input type="hidden" name="state" value="${escape(q.get("state")!)}">` +
          `</form><script>document.forms[0].submit()</script></body></html>`,
      );
      return;
    }

    if (url.pathname === "/token" && req.method === "POST") {
      // Client credentials with a JWT client assertion, verified against the tool's JWKS.
      const form = new URLSearchParams(await readBody(req));
      if (form.get("grant_type") !== "client_credentials" || form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return json(res, 400, { error: "unsupported_grant_type" });
      }
      const verify = () => {
        toolKeys ??= createRemoteJWKSet(new URL(`${fixture.toolUrl}/api/lti/jwks`));
        return jwtVerify(form.get("client_assertion") ?? "", toolKeys, {
          issuer: fixture.clientId,
          subject: fixture.clientId,
          audience: fixture.tokenUrl,
          requiredClaims: ["exp", "iat", "jti"],
        });
      };
      try {
        // A key it has not seen: the set is fetched again at once (tests move keys' ages).
        const { payload } = await verify().catch((error: Error) => {
          if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
          toolKeys = undefined;
          return verify();
        });
        fixture.assertions.push(payload);
      } catch {
        return json(res, 401, { error: "invalid_client" });
      }
      const access = crypto.randomUUID();
      const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      tokens.set(access, scopes);
      return json(res, 200, { access_token: access, token_type: "Bearer", expires_in: 3600, scope: scopes.join(" ") });
    }

    const scoresPath = /^\/lineitems\/([^/]+)\/scores$/.exec(url.pathname);
    if (scoresPath && req.method === "POST") {
      if (!bearerScopes(req).includes(SCOPE.score)) return json(res, 401, { error: "invalid_token" });
      if (fixture.failScores > 0) {
        fixture.failScores--;
        return json(res, 503, { error: "unavailable" });
      }
      fixture.scores.push({ lineItem: scoresPath[1]!, contentType: req.headers["content-type"], body: JSON.parse(await readBody(req)) });
      res.writeHead(204);
      res.end();
      return;
    }

    const membershipsPath = /^\/memberships\/([^/]+)$/.exec(url.pathname);
    if (membershipsPath && req.method === "GET") {
      if (!bearerScopes(req).includes(SCOPE.memberships)) return json(res, 401, { error: "invalid_token" });
      const contextId = decodeURIComponent(membershipsPath[1]!);
      return json(res, 200, { id: url.toString(), context: { id: contextId }, members: fixture.rosters.get(contextId) ?? [] }, MEDIA_TYPE.memberships);
    }

    if (url.pathname === "/deep-link-return" && req.method === "POST") {
      fixture.deepLinkingResponses.push(new URLSearchParams(await readBody(req)).get("JWT") ?? "");
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><p>Content added to the course.</p>");
      return;
    }
    json(res, 404, { error: "not_found" });
  }

  server.on("request", (req, res) => {
    handle(req, res).catch((error: Error) => json(res, 500, { error: error.message }));
  });
  return fixture;
}

/**
 * A real OpenID Provider for the tests: oidc-provider (a certified implementation) on
 * loopback, with its own sign-in page (type an account's login, no password) that finishes
 * the login and consent at once. Clients are registered once the platform's callback URL is
 * known (`register`); until then every request answers 503.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface TestOpenIdProvider {
  issuer: string;
  /** Accounts by login (their subject); tests add to it at will. */
  accounts: Map<string, TestAccount>;
  /** Builds the provider with these clients (call once). */
  register(clients: TestClient[]): void;
  close(): Promise<void>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startTestOpenIdProvider(options: { port?: number; name?: string } = {}): Promise<TestOpenIdProvider> {
  const accounts = new Map<string, TestAccount>();
  let provider: Provider | undefined;
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const title = options.name ?? "Test Identity Provider";

  async function interaction(req: IncomingMessage, res: ServerResponse, op: Provider, uid: string) {
    const details = await op.interactionDetails(req, res);
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><head><title>${escapeHtml(title)}</title></head><body><main>
<h1>${escapeHtml(title)}</h1>
<form method="post" action="/interaction/${escapeHtml(uid)}"><label>Login <input name="login" autocomplete="off"></label>
<button type="submit">Continue</button></form></main></body></html>`);
      return;
    }
    const login = (await formBody(req)).get("login") ?? "";
    if (!accounts.has(login)) {
      await op.interactionFinished(req, res, { error: "access_denied", error_description: "unknown login" }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new op.Grant({ accountId: login, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await op.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  server.on("request", (req, res) => {
    if (!provider) {
      res.writeHead(503);
      res.end();
      return;
    }
    const op = provider;
    const match = /^\/interaction\/([\w-]+)$/.exec(req.url ?? "");
    if (match) {
      interaction(req, res, op, match[1]!).catch((error: Error) => {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(error.message);
      });
      return;
    }
    op.callback()(req, res);
  });

  return {
    issuer,
    accounts,
    register(clients) {
      provider = new Provider(issuer, {
        clients: clients.map((client) => ({ ...client, grant_types: ["authorization_code"], response_types: ["code"] })),
        findAccount: (_ctx, sub) => {
          const account = accounts.get(sub);
          return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
        },
        claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
        scopes: ["openid", "email", "profile", "groups"],
        features: { devInteractions: { enabled: false } },
        interactions: { url: (_ctx, found) => `/interaction/${found.uid}` },
        cookies: { keys: ["shellroom-test-openid-provider"] },
        pkce: { required: () => true },
        // Set, so the provider does not warn that its defaults are in use.
        ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600 },
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

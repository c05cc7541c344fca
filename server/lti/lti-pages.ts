/**
 * The few pages LTI answers with itself (they are part of a redirect dance, not of the
 * app): a refusal shown inside the LMS, the deep linking lab picker, and the form that
 * carries a signed message back to the platform.
 */
import type { ServerResponse } from "node:http";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function sendPage(res: ServerResponse, status: number, title: string, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Shellroom</title>` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}` +
      `li{margin:.5rem 0}button{font:inherit;padding:.3rem .8rem}</style></head>` +
      `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
  );
}

/** A refusal: the code for programs (and tests), the words for the person. */
export function sendRefusal(res: ServerResponse, status: number, code: string, message: string) {
  sendPage(res, status, "Shellroom could not open this link", `<p>${escapeHtml(message)}</p><p><small>(${escapeHtml(code)})</small></p>`, {
    "x-lti-refusal": code,
  });
}

/** A form that posts `fields` to `action` by itself (with a button if scripts are off). */
export function sendAutoPost(res: ServerResponse, title: string, action: string, fields: Record<string, string>) {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  sendPage(
    res,
    200,
    title,
    `<form method="post" action="${escapeHtml(action)}">${inputs}<button type="submit">Continue</button></form>` +
      `<script>document.forms[0].submit()</script>`,
  );
}

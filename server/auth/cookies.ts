/** The session cookie: HttpOnly, SameSite=Lax, Secure whenever the site is served over HTTPS. */
export const SESSION_COOKIE = "shellroom_session";

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const separator = part.indexOf("=");
    if (separator === -1) continue;
    if (part.slice(0, separator).trim() === name) {
      try {
        return decodeURIComponent(part.slice(separator + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const attributes = [`${SESSION_COOKIE}=${token}`, "HttpOnly", "SameSite=Lax", "Path=/", `Expires=${expiresAt.toUTCString()}`];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}

export function blankSessionCookie(secure: boolean): string {
  const attributes = [`${SESSION_COOKIE}=`, "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=0"];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}

/**
 * The session cookie of an LTI launch, which opens inside the LMS's iframe: a SameSite=Lax
 * cookie would not be sent there (the LMS is another site), so over HTTPS it is
 * SameSite=None; Secure; Partitioned (kept apart per embedding site, which browsers that
 * block third-party cookies still allow). Over plain HTTP (development) browsers refuse
 * SameSite=None, so it is the ordinary cookie and the lab works in a new window.
 */
export function embeddedSessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  if (!secure) return sessionCookie(token, expiresAt, false);
  return [`${SESSION_COOKIE}=${token}`, "HttpOnly", "SameSite=None", "Secure", "Partitioned", "Path=/", `Expires=${expiresAt.toUTCString()}`].join("; ");
}

/**
 * Where to go after signing in (`next`): only a path on this site, never `//elsewhere`,
 * `/\elsewhere` or an absolute URL, so a sign-in link cannot be made into a redirect to
 * another site. The server's single sign-on and the sign-in page both use it.
 */
export function sameOriginPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  const parsed = new URL(next, "http://same.invalid");
  return parsed.origin === "http://same.invalid" ? `${parsed.pathname}${parsed.search}${parsed.hash}` : "/";
}

/**
 * A browser reduced to what a redirect-based sign-in needs: a cookie jar per host and manual
 * redirects, so a test can stop at, read or alter any hop (as an attacker in the middle would).
 */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookie(url: string | URL, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  /** One request, no redirect followed; cookies sent and kept. */
  async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const cookies = [...(this.jar.get(target.host) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join("; ");
    const headers: Record<string, string> = cookies ? { cookie: cookies } : {};
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? "GET", headers, body, redirect: "manual" });
    this.keep(target.host, response.headers.getSetCookie());
    return response;
  }

  /**
   * Follows redirects from `url` until a page answers, or until `stopAt` says the next hop is
   * the test's to take; returns that hop's URL and the last response.
   */
  async follow(
    url: string | URL,
    options: { method?: string; form?: Record<string, string>; stopAt?: (next: URL) => boolean } = {},
  ): Promise<{ url: URL; response: Response; stopped: boolean }> {
    let current = new URL(url);
    let response = await this.request(current, options);
    for (let hop = 0; hop < 20; hop++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response, stopped: false };
      const next = new URL(location, current);
      if (options.stopAt?.(next)) return { url: next, response, stopped: true };
      current = next;
      response = await this.request(current);
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  private keep(host: string, setCookies: string[]) {
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, cookies);
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(";");
      const separator = pair!.indexOf("=");
      const name = pair!.slice(0, separator).trim();
      const value = pair!.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || /^\s*expires=thu, 01 jan 1970/i.test(attribute));
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
  }
}

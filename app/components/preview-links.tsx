"use client";
/**
 * Links from a lab's text to the student's own preview ("open the app"): an instructor writes
 * `[open the app](preview:8000/some/page)` in Markdown. The lab page says where such a link
 * leads (the Preview tab of that port, when the environment runs and the port is previewable);
 * anywhere else (the authoring preview, a stopped environment) the link stays text that says why.
 */
import { createContext, useContext, type MouseEvent, type ReactNode } from "react";

export type PreviewTarget = { port: number; path: string };

/** What the lab page offers links: the address of a target it can show (null when it cannot), and showing it. */
export type PreviewLinkHost = { href(target: PreviewTarget): string | null; open(target: PreviewTarget): void };

export const PreviewLinks = createContext<PreviewLinkHost | null>(null);

const PREVIEW_LINK = /^preview:(\d{1,5})(\/[^\s\\]*)?$/i;
/** A ".." segment, plain or percent-encoded: the browser would resolve it out of the preview's path. */
const PARENT_SEGMENT = /(^|\/)(\.|%2e){2}(\/|\?|#|$)/i;

/** `preview:<port>[/<path>]` as a port and a path under the preview (path "/" when none); null when not one. */
export function parsePreviewLink(href: string): PreviewTarget | null {
  const match = PREVIEW_LINK.exec(href.trim());
  if (!match) return null;
  const port = Number(match[1]);
  const path = match[2] ?? "/";
  if (port < 1 || port > 65_535 || PARENT_SEGMENT.test(path)) return null;
  return { port, path };
}

export function PreviewLink({ target, children }: { target: PreviewTarget; children: ReactNode }) {
  const host = useContext(PreviewLinks);
  const href = host?.href(target) ?? null;
  if (!host || !href) {
    return (
      <span className="md-preview-link unavailable" title={`Opens port ${target.port} of your environment once it runs and serves it`}>
        {children} <span className="muted">(preview of port {target.port})</span>
      </span>
    );
  }
  // A real link (a middle click opens a tab of its own); a plain click shows the Preview tab beside the steps.
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    host.open(target);
  };
  return (
    <a href={href} className="md-preview-link" onClick={onClick}>
      {children}
    </a>
  );
}

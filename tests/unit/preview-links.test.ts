/**
 * Links from a lab's text to the student's preview: `preview:<port>[/<path>]` becomes a port and
 * a path under /preview/<environment>/<port>/, and nothing else does (no way out of the
 * preview's path, no other scheme smuggled in).
 */
import { describe, expect, it } from "vitest";
import { parsePreviewLink } from "../../app/components/preview-links";
import { urlScheme } from "../../app/components/markdown";

describe("preview links in a lab's text", () => {
  it("reads a port and a path under it", () => {
    expect(parsePreviewLink("preview:8000")).toEqual({ port: 8000, path: "/" });
    expect(parsePreviewLink("preview:8000/")).toEqual({ port: 8000, path: "/" });
    expect(parsePreviewLink("preview:3000/app/index.html?tab=2#top")).toEqual({ port: 3000, path: "/app/index.html?tab=2#top" });
    expect(parsePreviewLink("PREVIEW:80/a")).toEqual({ port: 80, path: "/a" });
    expect(urlScheme("preview:8000/x")).toBe("preview");
  });

  it.each([
    "preview:0",
    "preview:65536",
    "preview:99999/",
    "preview:",
    "preview:abc",
    "preview:8000x",
    "preview://8000/",
    "preview:8000/../../api/trpc",
    "preview:8000/a/%2e%2e/%2E%2E/api",
    "preview:8000/..",
    "preview:8000/a\\..\\b",
    "preview:8000/a b",
    "preview:javascript:alert(1)",
    "https://example.com/preview:8000",
  ])("refuses %s", (href) => {
    expect(parsePreviewLink(href)).toBeNull();
  });
});

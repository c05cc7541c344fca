"use client";
/**
 * Markdown as instructors write it (GitHub-flavoured: tables, task lists, strikethrough,
 * autolinks), rendered safely for a student's page:
 *  - raw HTML in the text is never rendered (react-markdown drops it; no rehype-raw here),
 *  - links keep only http(s), mailto, preview (the student's own app, preview-links.tsx) and
 *    relative addresses; images only http(s) and relative ones; anything else (javascript:,
 *    data:, vbscript:, …) is dropped,
 *  - links open in a new tab with no access back to this page.
 * Nothing here uses dangerouslySetInnerHTML.
 */
import { useEffect, useRef, useState, type ComponentPropsWithoutRef, type ReactNode } from "react";
import ReactMarkdown, { type Components, type UrlTransform } from "react-markdown";
import remarkGfm from "remark-gfm";
import { PreviewLink, parsePreviewLink } from "./preview-links";

const LINK_SCHEMES = new Set(["http", "https", "mailto", "preview"]);
const IMAGE_SCHEMES = new Set(["http", "https"]);

/**
 * The scheme of a URL as a browser would read it (lower case), or null for a relative one.
 * Browsers ignore ASCII whitespace and control characters inside a scheme
 * ("java\tscript:"), so those are removed before looking.
 */
export function urlScheme(url: string): string | null {
  const squeezed = url.replace(/[\u0000-\u0020\u007f]/g, "");
  const colon = squeezed.indexOf(":");
  if (colon === -1) return null;
  // A colon after the first "/", "?" or "#" is part of a path, query or fragment.
  const firstDelimiter = squeezed.search(/[/?#]/);
  if (firstDelimiter !== -1 && firstDelimiter < colon) return null;
  return squeezed.slice(0, colon).toLowerCase();
}

/** The URL when its scheme is one of `allowed` (or it is relative), else "". */
export function safeUrl(url: string, allowed: ReadonlySet<string>): string {
  const scheme = urlScheme(url);
  return scheme === null || allowed.has(scheme) ? url : "";
}

const urlTransform: UrlTransform = (url, key, node) => {
  if (key === "src") return node.tagName === "img" ? safeUrl(url, IMAGE_SCHEMES) : "";
  if (key === "href") return safeUrl(url, LINK_SCHEMES);
  // No other URL attribute (cite, poster, …) is needed for lab text.
  return "";
};

function textOf(node: ReactNode): string {
  if (node === null || node === undefined || typeof node === "boolean") return "";
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (typeof node === "object" && "props" in node) return textOf((node.props as { children?: ReactNode }).children);
  return "";
}

/** A code block with a "Copy" button (when the browser lets pages write the clipboard). */
function CodeBlock({ children, ...props }: ComponentPropsWithoutRef<"pre">) {
  const [copied, setCopied] = useState<"idle" | "copied" | "failed">("idle");
  const [canCopy, setCanCopy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    setCanCopy(typeof navigator !== "undefined" && typeof navigator.clipboard?.writeText === "function");
    return () => clearTimeout(timer.current);
  }, []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(textOf(children).replace(/\n$/, ""));
      setCopied("copied");
    } catch {
      setCopied("failed");
    }
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied("idle"), 2000);
  };
  return (
    <div className="md-code">
      <pre {...props}>{children}</pre>
      {canCopy && (
        <button type="button" className="md-copy" onClick={() => void copy()} aria-label="Copy code">
          {copied === "copied" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
        </button>
      )}
    </div>
  );
}

type HeadingLevel = 1 | 2 | 3 | 4 | 5 | 6;
const HEADING_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6"] as const;

function components(headingOffset: number): Components {
  const heading = (level: HeadingLevel) => {
    const Tag = HEADING_TAGS[Math.min(6, level + headingOffset) - 1]!;
    function Heading({ node: _node, ...props }: ComponentPropsWithoutRef<"h1"> & { node?: unknown }) {
      return <Tag {...props} />;
    }
    return Heading;
  };
  return {
    h1: heading(1),
    h2: heading(2),
    h3: heading(3),
    h4: heading(4),
    h5: heading(5),
    h6: heading(6),
    a({ node: _node, href, children, ...props }) {
      // A link whose address was dropped as unsafe stays as its text.
      if (!href) return <span className="md-dropped-link">{children}</span>;
      if (urlScheme(href) === "preview") {
        const target = parsePreviewLink(href);
        return target ? <PreviewLink target={target}>{children}</PreviewLink> : <span className="md-dropped-link">{children}</span>;
      }
      // Footnote and in-page links stay in the page.
      if (href.startsWith("#"))
        return (
          <a href={href} {...props}>
            {children}
          </a>
        );
      return (
        <a href={href} {...props} target="_blank" rel="noopener noreferrer">
          {children}
        </a>
      );
    },
    img({ node: _node, src, alt, ...props }) {
      if (!src || typeof src !== "string") return alt ? <span className="md-dropped-image">{alt}</span> : null;
      // eslint-disable-next-line @next/next/no-img-element
      return <img src={src} alt={alt ?? ""} {...props} loading="lazy" referrerPolicy="no-referrer" />;
    },
    pre({ node: _node, ...props }) {
      return <CodeBlock {...props} />;
    },
    table({ node: _node, ...props }) {
      return (
        <div className="md-table">
          <table {...props} />
        </div>
      );
    },
  };
}

const CACHE = new Map<number, Components>();
function componentsFor(headingOffset: number) {
  let found = CACHE.get(headingOffset);
  if (!found) CACHE.set(headingOffset, (found = components(headingOffset)));
  return found;
}

/**
 * `headingOffset` shifts heading levels (1 turns "#" into <h2>), so an author's headings
 * sit below the page's own.
 */
export function Markdown({ text, headingOffset = 0, className }: { text: string; headingOffset?: number; className?: string }) {
  return (
    <div className={className ? `markdown ${className}` : "markdown"}>
      <ReactMarkdown remarkPlugins={[remarkGfm]} skipHtml urlTransform={urlTransform} components={componentsFor(headingOffset)}>
        {text}
      </ReactMarkdown>
    </div>
  );
}

/**
 * The design system's rules: every stylesheet under app/ (each folder, however deep) is loaded
 * once from the root layout, a selector is defined in one rule only across all of them (inside
 * the same @media), and colours are named in the palette (styles/tokens.css's :root) only.
 * Two rules for one selector in different files made the look depend on which page had been
 * visited first.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const APP = path.resolve(import.meta.dirname, "../../app");
const PALETTE = path.join(APP, "styles/tokens.css");

function filesEndingIn(folder: string, ending: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return filesEndingIn(full, ending);
    return entry.name.endsWith(ending) ? [full] : [];
  });
}
const cssFiles = (folder: string) => filesEndingIn(folder, ".css");

/** Each selector of each rule, with the at-rules around it (a small reader: no nesting beyond @media). */
function selectorsOf(css: string): string[] {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  const found: string[] = [];
  const context: string[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf("{", at);
    const close = text.indexOf("}", at);
    if (close !== -1 && (open === -1 || close < open)) {
      context.pop(); // the end of an at-rule block
      at = close + 1;
      continue;
    }
    if (open === -1) break;
    const prelude = text.slice(at, open).trim().replace(/\s+/g, " ");
    if (prelude.startsWith("@")) {
      context.push(prelude);
      at = open + 1;
      continue;
    }
    for (const selector of prelude.split(",")) found.push([...context, selector.trim()].join(" "));
    at = text.indexOf("}", open) + 1;
  }
  return found;
}

describe("app stylesheets", () => {
  it("define each selector in one rule", () => {
    const places = new Map<string, string[]>();
    for (const file of cssFiles(APP)) {
      for (const selector of selectorsOf(readFileSync(file, "utf8"))) {
        places.set(selector, [...(places.get(selector) ?? []), path.relative(APP, file)]);
      }
    }
    const twice = [...places].filter(([, files]) => files.length > 1).map(([selector, files]) => `${selector}: ${files.join(", ")}`);
    expect(twice).toEqual([]);
  });

  it("are all loaded from the root layout, and nowhere else", () => {
    const layout = readFileSync(path.join(APP, "layout.tsx"), "utf8");
    for (const file of cssFiles(APP)) expect(layout).toContain(`"./${path.relative(APP, file)}"`);
    const elsewhere = filesEndingIn(APP, ".tsx").filter(
      (file) => file !== path.join(APP, "layout.tsx") && /^import\s+["'][^"']+\.css["']/m.test(readFileSync(file, "utf8")),
    );
    expect(elsewhere.map((file) => path.relative(APP, file))).toEqual([]);
  });

  it("name colours in the palette only (:root in styles/tokens.css)", () => {
    const literals = cssFiles(APP).flatMap((file) => {
      let css = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
      if (file === PALETTE) css = css.replace(/:root\s*\{[^}]*\}/, "");
      return (css.match(/#[0-9a-f]{3,8}\b/gi) ?? []).map((literal) => `${path.relative(APP, file)}: ${literal}`);
    });
    expect(literals).toEqual([]);
  });

  it("the reader finds a selector defined twice", () => {
    const css = ".a { color: red; }\n@media (max-width: 1px) { .a { color: blue; } }\n.b, .a { margin: 0; }";
    expect(selectorsOf(css)).toEqual([".a", "@media (max-width: 1px) .a", ".b", ".a"]);
  });
});

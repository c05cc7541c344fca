/**
 * How the terminal is drawn and read: WebGL in Chromium, the DOM renderer when WebGL is
 * refused or its context is lost; search in the scrollback; screen-reader mode, which puts
 * the terminal's rows in the accessibility tree and is remembered on the account.
 */
import { expect, test, type Page } from "@playwright/test";
import { STUDENT, activeTerminal, expectConnectedTerminal, screenText, signIn, typeInTerminal } from "./helpers";

async function openLab(page: Page) {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: "First steps in the shell" }).click();
  await expectConnectedTerminal(page);
}

test("the WebGL renderer draws the terminal; when its context is lost the DOM renderer takes over and the shell goes on", async ({ page }) => {
  await openLab(page);
  const terminal = activeTerminal(page);
  await expect(terminal).toHaveAttribute("data-renderer", "webgl");
  await expect(terminal.locator("canvas").first()).toBeAttached();
  await expect(terminal.locator(".xterm-rows")).toHaveCount(0);

  // What a GPU reset does: the context goes; xterm's WebGL addon reports it.
  const lost = await terminal.evaluate((host) => {
    for (const canvas of host.querySelectorAll("canvas")) {
      const gl = canvas.getContext("webgl2");
      const extension = gl?.getExtension("WEBGL_lose_context");
      if (extension) {
        extension.loseContext();
        return true;
      }
    }
    return false;
  });
  expect(lost).toBe(true);
  await expect(terminal).toHaveAttribute("data-renderer", "dom");
  await typeInTerminal(page, "echo drawn-by-$((1+1))-renderers");
  await expect(terminal.locator(".xterm-rows")).toContainText("drawn-by-2-renderers");
});

test("where WebGL is refused, the DOM renderer draws from the start", async ({ page }) => {
  // A browser without WebGL (blocked by policy, no GPU): every WebGL context is refused.
  await page.addInitScript(() => {
    const original = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
      if (type === "webgl" || type === "webgl2" || type === "experimental-webgl") return null;
      return (original as (...args: unknown[]) => RenderingContext | null).call(this, type, ...rest);
    } as typeof original;
  });
  await openLab(page);
  const terminal = activeTerminal(page);
  await expect(terminal).toHaveAttribute("data-renderer", "dom");
  await typeInTerminal(page, "echo dom-$((6*7))");
  await expect(terminal.locator(".xterm-rows")).toContainText("dom-42");
});

test("search finds text that scrolled out of view, steps between matches, and closes with Escape", async ({ page }) => {
  await openLab(page);
  const marker = `needle${Date.now() % 100_000}`;
  // The command line says `${marker}x$((…))`; only the output says `${marker}x42`, twice, then 300 lines bury it.
  await typeInTerminal(page, `echo ${marker}x$((40+2)); echo ${marker}x$((41+1)); seq 1 300`);
  await expect.poll(() => screenText(page)).toMatch(/^300\s*$/m);
  expect(await screenText(page)).not.toContain(`${marker}x42`);

  // From inside the terminal, the desktop terminals' shortcut.
  await activeTerminal(page).locator(".xterm-helper-textarea").focus();
  await page.keyboard.press("Control+Shift+F");
  const field = page.getByRole("searchbox", { name: "Search the terminal's output" });
  await expect(field).toBeFocused();
  await field.fill(`${marker}x42`);
  const count = page.getByTestId("terminal-search-count");
  await expect(count).toHaveText(/^[12] of 2$/);
  // The match is scrolled into view.
  await expect.poll(() => screenText(page)).toContain(`${marker}x42`);
  const first = await count.innerText();
  await field.press("Enter");
  await expect(count).not.toHaveText(first);
  await expect(count).toHaveText(/^[12] of 2$/);

  await field.fill("no-such-text-anywhere");
  await expect(count).toHaveText("No matches");

  await field.press("Escape");
  await expect(page.getByTestId("terminal-search")).toHaveCount(0);
  await expect(activeTerminal(page).locator(".xterm-helper-textarea")).toBeFocused();
});

test("screen-reader mode puts the terminal's rows in the accessibility tree, and the account remembers it", async ({ page }) => {
  await openLab(page);
  const toggle = page.getByRole("button", { name: "Screen reader" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  // Off: the rows are not in the accessibility tree.
  await expect(activeTerminal(page).getByRole("listitem").filter({ hasText: "student@" })).toHaveCount(0);
  await toggle.click();
  try {
    await expect(toggle).toHaveAttribute("aria-pressed", "true");
    await typeInTerminal(page, "echo spoken-$((20+22))");
    await expect(activeTerminal(page).getByRole("listitem").filter({ hasText: "spoken-42" }).first()).toBeAttached();

    // Another page load (or another device): the account says it is on.
    await page.reload();
    await expectConnectedTerminal(page);
    await expect(page.getByRole("button", { name: "Screen reader" })).toHaveAttribute("aria-pressed", "true");
    await expect(activeTerminal(page).getByRole("listitem").filter({ hasText: "student@" }).first()).toBeAttached();
  } finally {
    // The demo student is shared by the other tests: leave the setting as it was.
    const button = page.getByRole("button", { name: "Screen reader" });
    if ((await button.getAttribute("aria-pressed")) === "true") await button.click();
    await expect(button).toHaveAttribute("aria-pressed", "false");
    await expect
      .poll(
        async () =>
          ((await (await page.request.get("/api/trpc/preferences.get")).json()) as { result: { data: { screenReaderMode: boolean } } }).result.data
            .screenReaderMode,
      )
      .toBe(false);
  }
});

test("typing and its echo re-render nothing in React: the keystroke path goes socket to xterm and back", async ({ page }) => {
  // React reports every commit to a DevTools hook, production builds included: this one counts them.
  await page.addInitScript(() => {
    const counter = window as unknown as { __reactCommits: number; __REACT_DEVTOOLS_GLOBAL_HOOK__: unknown };
    counter.__reactCommits = 0;
    counter.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
      supportsFiber: true,
      isDisabled: false,
      renderers: new Map(),
      inject: () => 1,
      onCommitFiberRoot: () => void (counter.__reactCommits += 1),
      onCommitFiberUnmount: () => undefined,
      onPostCommitFiberRoot: () => undefined,
      checkDCE: () => undefined,
    };
  });
  await openLab(page);
  const commits = () => page.evaluate(() => (window as unknown as { __reactCommits: number }).__reactCommits);
  expect(await commits()).toBeGreaterThan(0);

  const typed = `keystroke-path-${Date.now() % 100_000}`;
  await activeTerminal(page).locator(".xterm-helper-textarea").focus();
  const before = await commits();
  // One key at a time, each echoed by the shell before the next.
  for (const key of typed) {
    const shown = (await screenText(page)).length;
    await page.keyboard.type(key);
    await expect.poll(async () => (await screenText(page)).length).toBeGreaterThan(shown);
  }
  await expect.poll(() => screenText(page)).toContain(typed);
  const during = (await commits()) - before;
  // The page's own timers (a query refetching, a hint fading) may commit now and then; a render
  // per keystroke would be at least one per character.
  expect(during).toBeLessThan(typed.length / 4);
  await page.keyboard.press("Control+U");
});

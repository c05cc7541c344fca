/**
 * The Preview tab in Chromium: a lab whose template declares port 8000; the student starts
 * `python3 -m http.server 8000` in the terminal and sees its listing in the tab. Another
 * student opening the same address is refused, and so is a signed-out visitor. A link in the
 * lab's step (`preview:8000/page.txt`) opens that page in the Preview tab.
 * (The Postgres sidecar, in the browser, is tests/e2e/sidecar-database.spec.ts.)
 */
import { expect, test, type Page } from "@playwright/test";
import { freshPage, openDemoCourse, unique } from "./authoring-helpers";
import { expectConnectedTerminal, joinAsGuest, typeInTerminal } from "./helpers";

/** A tRPC mutation as the signed-in page (same cookies, same origin). */
async function mutate(page: Page, path: string, input: unknown) {
  const origin = new URL(page.url()).origin;
  const response = await page.request.post(`${origin}/api/trpc/${path}`, { data: input, headers: { origin } });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()).result.data;
}

test("a student previews the web server they run on a declared port; another student and a signed-out visitor are refused", async ({ browser }) => {
  const staff = await freshPage(browser);
  const courseUrl = await openDemoCourse(staff.page);
  const courseId = /\/courses\/([^/]+)/.exec(courseUrl)![1]!;
  const template = await mutate(staff.page, "authoring.saveTemplate", {
    courseId,
    name: unique("web"),
    image: "shellroom/default:1",
    memoryMb: 256,
    cpuMillis: 500,
    pidsLimit: 128,
    diskMb: 256,
    network: "NONE",
    idleTimeoutMinutes: 15,
    maxLifetimeMinutes: 60,
    workingDir: "/home/student/workspace",
    setupScript: null,
    previewPorts: [8000],
  });
  const title = unique("Serve a page");
  const { labId } = await mutate(staff.page, "authoring.saveLab", {
    courseId,
    templateId: template.id,
    title,
    instructions: "",
    published: true,
    steps: [{ title: "See your page", body: "Then [open the app](preview:8000/page.txt).", hint: null, checkScript: null, checkTimeoutSeconds: 30 }],
  });
  await staff.context.close();

  const student = await joinAsGuest(browser, "Web");
  const other = await joinAsGuest(browser, "Nosy");
  try {
    await student.page.goto(`/labs/${labId}`);
    await expectConnectedTerminal(student.page);
    await typeInTerminal(student.page, "echo hello > page.txt; python3 -m http.server 8000 --bind 127.0.0.1");
    await student.page.getByRole("tab", { name: "Preview :8000" }).click();
    const frame = student.page.frameLocator('iframe[title="Preview of port 8000"]');
    // The server may still be starting when the frame first loads: reload the frame until it answers.
    await expect(async () => {
      await student.page.locator('iframe[title="Preview of port 8000"]').evaluate((iframe: HTMLIFrameElement) => {
        iframe.setAttribute("src", iframe.getAttribute("src") ?? "");
      });
      await expect(frame.getByRole("heading", { name: "Directory listing for /" })).toBeVisible({ timeout: 3000 });
    }).toPass({ timeout: 30_000 });
    await expect(frame.getByRole("link", { name: "page.txt" })).toBeVisible();

    // The step's link leads to a page of that preview, shown in the same tab.
    await student.page.getByRole("tab", { name: "Terminal" }).click();
    await student.page.getByRole("link", { name: "open the app" }).click();
    await expect(student.page.getByRole("tab", { name: "Preview :8000" })).toHaveAttribute("aria-selected", "true");
    await expect(frame.locator("body")).toHaveText("hello");

    const address = await student.page.locator('iframe[title="Preview of port 8000"]').getAttribute("src");
    expect((await other.page.goto(address!))?.status()).toBe(404);
    const signedOut = await browser.newContext();
    const baseURL = new URL(student.page.url()).origin;
    expect((await signedOut.request.get(`${baseURL}${address}`)).status()).toBe(401);
    await signedOut.close();
  } finally {
    await student.context.close();
    await other.context.close();
  }
});

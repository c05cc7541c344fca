/**
 * Course staff's authoring pages as the e2e specs drive them (tests/e2e/authoring*.spec.ts):
 * signing in to the demo course, creating templates, writing and publishing labs.
 */
import { expect, type Browser, type Page } from "@playwright/test";
import { signIn, INSTRUCTOR } from "./helpers";

export const DEMO_COURSE = "Intro to the Unix shell";
export const DEFAULT_IMAGE = "shellroom/default:1";

export const unique = (label: string) => `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

export async function freshPage(browser: Browser) {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

/** Signs the instructor in and opens the demo course; returns its URL. */
export async function openDemoCourse(page: Page) {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  return page.url();
}

export async function createTemplate(page: Page, courseUrl: string, name: string, image = DEFAULT_IMAGE) {
  await page.goto(`${courseUrl}/templates`);
  await page.getByRole("button", { name: "New template" }).click();
  const form = page.getByTestId("template-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Image").selectOption(image);
  await form.getByLabel("CPUs").fill("0.5");
  await form.getByLabel("Memory (MiB)").fill("256");
  await form.getByLabel("Process limit").fill("128");
  await form.getByLabel("Disk (MiB)").fill("512");
  await form.getByLabel("Idle timeout (minutes)").fill("15");
  await form.getByLabel("Max lifetime (minutes)").fill("60");
  await form.getByRole("button", { name: "Create template" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created “${name}”` })).toBeVisible();
  await expect(page.getByTestId("templates-table").getByRole("row", { name: new RegExp(name) })).toContainText("0.5 CPUs");
}

type StepSpec = { title: string; body?: string; hint?: string; check?: string };

/** Fills the lab editor (new or existing) and presses the given button. */
export async function writeLab(page: Page, lab: { title: string; template?: string; instructions: string; steps: StepSpec[] }) {
  await page.getByLabel("Lab title").fill(lab.title);
  if (lab.template) await page.getByLabel("Environment template").selectOption({ label: `${lab.template} (${DEFAULT_IMAGE})` });
  await page.getByLabel("Instructions").fill(lab.instructions);
  for (const [index, step] of lab.steps.entries()) {
    if (index > 0) await page.getByRole("button", { name: "Add step" }).click();
    const group = page.getByRole("group", { name: `Step ${index + 1}`, exact: true });
    await group.getByLabel("Step title").fill(step.title);
    if (step.body) await group.getByLabel("Step text").fill(step.body);
    if (step.hint) await group.getByLabel("Hint").fill(step.hint);
    if (step.check) await group.getByLabel("Check script").fill(step.check);
  }
}

export async function createAndPublishLab(page: Page, courseUrl: string, lab: Parameters<typeof writeLab>[1]) {
  await page.goto(`${courseUrl}/labs/new`);
  await writeLab(page, lab);
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+\/edit/);
  await expect(page.getByTestId("publish-state")).toHaveText("Draft");
  await expect(page.getByText("Lab created as a draft")).toBeVisible();
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(page.getByTestId("publish-state")).toHaveText("Published");
  return /\/labs\/([^/]+)\/edit/.exec(page.url())![1]!;
}

/** Builds an image from a Dockerfile on the course's Images page, waits for READY and returns its tag. */
export async function buildImage(page: Page, courseUrl: string, image: { name: string; dockerfile: string; timeout: number }) {
  await page.goto(`${courseUrl}/images`);
  await page.getByRole("button", { name: "New image" }).click();
  await page.getByLabel("Image name").fill(image.name);
  await page.getByLabel("Dockerfile").fill(image.dockerfile);
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page).toHaveURL(/\/images\/[^/]+$/);
  await expect(page.getByRole("heading", { name: image.name })).toBeVisible();
  const status = page.getByTestId("image-status");
  await expect(status).toBeVisible();
  // A failed build ends the wait at once and says why (its log).
  await expect(status).not.toHaveAttribute("data-status", "BUILDING", { timeout: image.timeout });
  expect(await status.getAttribute("data-status"), await page.getByTestId("build-log").innerText()).toBe("READY");
  const tag = (await page.locator("code.tag").first().innerText()).trim();
  expect(tag).toMatch(/^shellroom\/c-/);
  return tag;
}

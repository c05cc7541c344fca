/**
 * Course staff's authoring, through the real platform in Chromium: image builds follow their
 * log live, a failing one says where it failed, a good one becomes a template's image.
 * Each test makes its own templates, labs and courses (unique names).
 */
import { expect, test } from "@playwright/test";
import { unique, openDemoCourse } from "./authoring-helpers";

test("an image build follows its log live; a failing RUN shows FAILED with the failing step, a good one becomes a template image", async ({ page }) => {
  test.setTimeout(240_000);
  const courseUrl = await openDemoCourse(page);
  await page.getByRole("link", { name: "Images" }).click();
  await expect(page.getByRole("heading", { name: "Images", level: 1 })).toBeVisible();

  await page.getByRole("button", { name: "New image" }).click();
  await expect(page.getByLabel("Dockerfile")).toHaveValue("FROM shellroom/default:1\nUSER root\nRUN ...\nUSER student");
  await page.getByLabel("Image name").fill(unique("no-from"));
  await page.getByLabel("Dockerfile").fill("RUN true");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page.getByText("A Dockerfile starts FROM an image")).toBeVisible();

  const brokenName = unique("broken");
  await page.getByLabel("Image name").fill(brokenName);
  await page.getByLabel("Dockerfile").fill("FROM shellroom/default:1\nUSER root\nRUN echo before-the-failure\nRUN exit 3\nUSER student");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page).toHaveURL(/\/images\/[^/]+$/);
  await expect(page.getByRole("heading", { name: brokenName })).toBeVisible();
  await expect(page.getByTestId("image-status")).toHaveAttribute("data-status", "FAILED", { timeout: 120_000 });
  await expect(page.getByTestId("build-outcome")).toContainText("The build failed");
  await expect(page.getByTestId("build-outcome")).toContainText("non-zero code: 3");
  await expect(page.getByTestId("build-log")).toContainText("RUN exit 3");
  await expect(page.getByTestId("build-log")).toContainText("before-the-failure");

  const goodName = unique("with-motd");
  await page.goto(`${courseUrl}/images`);
  await expect(
    page
      .getByTestId("images-table")
      .getByRole("row", { name: new RegExp(brokenName) })
      .getByTestId("image-status"),
  ).toHaveText("Failed");
  await page.getByRole("button", { name: "New image" }).click();
  await page.getByLabel("Image name").fill(goodName);
  await page.getByLabel("Dockerfile").fill("FROM shellroom/default:1\nUSER root\nRUN echo built-by-e2e > /etc/e2e-marker\nUSER student");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page).toHaveURL(/\/images\/[^/]+$/);
  await expect(page.getByTestId("image-status")).toHaveAttribute("data-status", "READY", { timeout: 180_000 });
  await expect(page.getByTestId("build-log")).toContainText("Successfully tagged shellroom/c-");
  const tag = (await page.locator("code.tag").first().innerText()).trim();
  expect(tag).toMatch(/^shellroom\/c-/);

  // A ready image is offered to templates.
  await page.goto(`${courseUrl}/templates`);
  await page.getByRole("button", { name: "New template" }).click();
  await expect(page.getByTestId("template-form").getByLabel("Image").locator("option", { hasText: tag })).toHaveCount(1);
});

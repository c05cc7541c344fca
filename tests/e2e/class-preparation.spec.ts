import { expect, test } from "@playwright/test";
import { INSTRUCTOR, signIn } from "./helpers";

const DEMO_COURSE = "Intro to the Unix shell";

test("an instructor prepares the class for N students, watches the seats get ready, and stops preparing", async ({ page }) => {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "Live room" }).click();

  const panel = page.getByTestId("prepare-panel");
  await expect(panel.getByRole("heading", { name: "Prepare for the class" })).toBeVisible({ timeout: 30_000 });
  await panel.getByLabel("Prepare for").fill("2");
  await panel.getByRole("button", { name: "Prepare", exact: true }).click();

  // Pooled containers (or students already running) fill the seats; the bar says how many.
  await expect(panel.getByTestId("prepare-count")).toContainText("2 of 2 ready", { timeout: 90_000 });
  await expect(panel.getByTestId("prepare-count")).toContainText("Class ready");
  await expect(panel.getByRole("progressbar")).toHaveAttribute("value", "2");
  await expect(panel.getByTestId("prepare-window")).toContainText("Prepared by hand until");

  await panel.getByRole("button", { name: "Stop preparing" }).click();
  await expect(panel.getByRole("progressbar")).toHaveCount(0);
  await expect(panel.getByRole("button", { name: "Stop preparing" })).toHaveCount(0);
});

/**
 * Webhooks in the browser: an instructor adds one to their course on the course page (its
 * secret shown once), a student joining makes a `student.joined` delivery that the webhook's
 * deliveries list shows with the receiver's answer (here: an address that never resolves), and
 * the instructor removes it. A student cannot list the course's webhooks.
 */
import { expect, test } from "@playwright/test";
import { freshPage, openDemoCourse } from "./authoring-helpers";
import { joinAsGuest } from "./helpers";

test("an instructor adds a course webhook, sees a student's join delivered to it (and the receiver's answer), and removes it", async ({ browser }) => {
  const staff = await freshPage(browser);
  const courseUrl = await openDemoCourse(staff.page);
  const courseId = /\/courses\/([^/]+)/.exec(courseUrl)![1]!;
  const panel = staff.page.getByRole("region", { name: "Webhooks" });
  // `.invalid` never resolves (RFC 2606): the delivery fails, and says why.
  const url = `https://receiver-${Date.now()}.invalid/shellroom`;
  await panel.getByLabel("Receiver's address").fill(url);
  await panel.getByRole("checkbox", { name: /student\.joined/ }).check();
  await panel.getByRole("button", { name: "Add the webhook" }).click();
  await expect(panel.getByTestId("webhook-secret")).toContainText("whsec_");
  const row = panel.getByRole("listitem").filter({ hasText: url });
  await expect(row).toContainText("student.joined");

  const student = await joinAsGuest(browser, "Hooked");
  try {
    // A student is refused the course's webhooks.
    const listed = await student.page.request.get(`/api/trpc/webhook.list?input=${encodeURIComponent(JSON.stringify({ courseId }))}`);
    expect(listed.status()).toBe(403);

    await expect(async () => {
      await staff.page.reload();
      const reloaded = staff.page.getByRole("region", { name: "Webhooks" }).getByRole("listitem").filter({ hasText: url });
      await reloaded.getByRole("button", { name: "Deliveries" }).click();
      const delivery = reloaded.getByRole("table", { name: "Latest deliveries" }).getByRole("row").filter({ hasText: "student.joined" });
      await expect(delivery).toBeVisible({ timeout: 2000 });
      // Tried at least once, and the answer is there: no HTTP status, the reason it failed.
      await expect(delivery.getByRole("cell").nth(2)).not.toHaveText("0", { timeout: 2000 });
    }).toPass({ timeout: 60_000 });

    const current = staff.page.getByRole("region", { name: "Webhooks" }).getByRole("listitem").filter({ hasText: url });
    await current.getByRole("button", { name: `Remove the webhook to ${url}` }).click();
    await expect(current).toHaveCount(0);
  } finally {
    await student.context.close();
    await staff.context.close();
  }
});

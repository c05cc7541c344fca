/**
 * Course staff's authoring, through the real platform in Chromium: a lab exports as a folder
 * zip and comes back in by .zip and by folder; bad uploads say why.
 * Each test makes its own templates, labs and courses (unique names).
 */
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { expect, test } from "@playwright/test";
import { unique, openDemoCourse, writeLab } from "./authoring-helpers";

test("a lab exports as a folder zip and comes back in by .zip and by folder; bad uploads say why", async ({ page }) => {
  test.setTimeout(120_000);
  const labTitle = unique("Round trip");
  const courseUrl = await openDemoCourse(page);
  await page.goto(`${courseUrl}/labs/new`);
  await writeLab(page, {
    title: labTitle,
    instructions: "Export me.",
    steps: [
      { title: "First", body: "one", check: "true" },
      { title: "Second", body: "two", hint: "look closely", check: "test -d /tmp" },
    ],
  });
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+\/edit/);

  // Moving a step and saving keeps the new order.
  await page.getByRole("button", { name: "Move step 2 up" }).click();
  await expect(page.getByText("Unsaved changes")).toBeVisible();
  await page.getByRole("button", { name: "Save lab" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("group", { name: "Step 1", exact: true }).getByLabel("Step title")).toHaveValue("Second");
  await expect(page.getByRole("group", { name: "Step 1", exact: true }).getByLabel("Hint")).toHaveValue("look closely");

  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export folder" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^round-trip.*\.zip$/);
  const zipped = await readFile((await download.path())!);
  const entries = unzipSync(new Uint8Array(zipped));
  const folder = download.suggestedFilename().replace(/\.zip$/, "");
  const names = Object.keys(entries);
  expect(names).toContain(`${folder}/lab.yaml`);
  expect(names).toContain(`${folder}/instructions.md`);
  expect(strFromU8(entries[`${folder}/lab.yaml`]!)).toContain(labTitle);
  expect(strFromU8(entries[`${folder}/checks/01-second.sh`]!)).toBe("test -d /tmp");

  // Back in as a .zip ...
  const work = await mkdtemp(path.join(tmpdir(), "shellroom-import-"));
  const zipPath = path.join(work, `${folder}.zip`);
  await writeFile(zipPath, zipped);
  await page.goto(courseUrl);
  const importForm = page.getByTestId("import-lab-form");
  await importForm.getByLabel("Upload a .zip").setInputFiles(zipPath);
  await expect(page.getByTestId("import-picked")).toContainText(`${folder}.zip: 6 files`);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(importForm.getByRole("status")).toContainText("Imported a lab with 2 steps");
  await expect(page.getByRole("link", { name: `Edit ${labTitle}` })).toHaveCount(2);

  // ... and as a folder (webkitdirectory), hidden files left out.
  const dir = path.join(work, folder);
  for (const [name, data] of Object.entries(entries)) {
    const target = path.join(work, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  await writeFile(path.join(dir, ".DS_Store"), "junk");
  await importForm.getByLabel("Upload a folder").setInputFiles(dir);
  await expect(page.getByTestId("import-picked")).toContainText("6 files, 1 hidden skipped");
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(importForm.getByRole("status")).toContainText("Imported a lab with 2 steps");
  await expect(page.getByRole("link", { name: `Edit ${labTitle}` })).toHaveCount(3);

  // A zip that is not a lab folder, and a lab.yaml that names a missing file.
  const notALab = path.join(work, "not-a-lab.zip");
  await writeFile(notALab, zipSync({ "notes/readme.md": strToU8("hello") }));
  await importForm.getByLabel("Upload a .zip").setInputFiles(notALab);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(page.getByTestId("import-error")).toHaveText("The folder has no lab.yaml at its top.");
  const broken = path.join(work, "broken.zip");
  await writeFile(broken, zipSync({ "broken/lab.yaml": strToU8("title: Broken\nsteps:\n  - title: A\n    body: steps/01-a.md\n") }));
  await importForm.getByLabel("Upload a .zip").setInputFiles(broken);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(page.getByTestId("import-error")).toContainText("steps/01-a.md, which is not in the folder");
});

/**
 * A Postgres sidecar in Chromium, end to end as people use it: an instructor builds an image
 * with Debian's postgresql package on the Images page (its RUN reaches Debian's archive through
 * the build mirror proxy, SHELLROOM_BUILD_MIRRORS in playwright.config.ts), makes a template of
 * it and imports a lab folder whose lab.yaml declares the service (docs/LAB-FOLDERS.md) and a
 * step whose check queries the database. A student runs `psql -h localhost` in the terminal,
 * creates the table, sees the check pass; a reset gives a fresh database and the check fails again.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { buildImage, createTemplate, freshPage, openDemoCourse, unique } from "./authoring-helpers";
import { expectConnectedTerminal, joinAsGuest, screenText, typeInTerminal } from "./helpers";

const POSTGRES_DOCKERFILE =
  "FROM shellroom/default:1\nUSER root\nRUN apt-get update && apt-get install -y --no-install-recommends postgresql && rm -rf /var/lib/apt/lists/*\nUSER student\n";
const STEP = "Create the notes table";
const DATA = "/var/lib/postgresql/data";
const COUNT_NOTES = `psql -X -h localhost -U postgres -tA -c "select count(*) from pg_tables where tablename = 'notes'"`;

/** The lab folder an instructor keeps in git: its lab.yaml gives the template a Postgres service. */
function labFolder(title: string, image: string): Record<string, string> {
  const start = `initdb -D ${DATA} -U postgres --auth=trust >/dev/null && exec postgres -D ${DATA} -c listen_addresses=127.0.0.1 -k /tmp`;
  return {
    "lab.yaml": [
      `title: ${title}`,
      "published: true",
      "instructions: instructions.md",
      "steps:",
      `  - title: ${STEP}`,
      "    body: steps/01-create-the-notes-table.md",
      "    hint: psql -h localhost -U postgres",
      "    check: checks/01-create-the-notes-table.sh",
      "    checkTimeoutSeconds: 20",
      "services:",
      "  - name: postgres",
      `    image: ${image}`,
      "    user: postgres",
      `    command: [bash, -c, ${JSON.stringify(start)}]`,
      '    env: { PATH: "/usr/lib/postgresql/15/bin:/usr/bin:/bin" }',
      "    memoryBytes: 268435456",
      "    memoryReservationBytes: 33554432",
      "    pidsLimit: 64",
      "    writable: [{ path: /var/lib/postgresql, sizeMb: 64 }]",
      "    readiness: { kind: tcp, port: 5432 }",
      "",
    ].join("\n"),
    "instructions.md": "A Postgres server runs beside your shell at `localhost:5432`.\n",
    "steps/01-create-the-notes-table.md": "Create a table named `notes` with `psql -h localhost -U postgres`.\n",
    "checks/01-create-the-notes-table.sh": `[ "$(${COUNT_NOTES})" = 1 ] || { echo "There is no table named notes yet."; exit 1; }\n`,
  };
}

/** Imports the folder through the course page's "Upload a folder" for the given template; returns the lab's id. */
async function importLabFolder(page: Page, courseUrl: string, files: Record<string, string>, templateLabel: string) {
  const work = await mkdtemp(path.join(tmpdir(), "shellroom-sql-lab-"));
  try {
    const folder = path.join(work, "sql-basics");
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
      await writeFile(path.join(folder, name), text);
    }
    await page.goto(courseUrl);
    const importForm = page.getByTestId("import-lab-form");
    await importForm.getByLabel("Upload a folder").setInputFiles(folder);
    await expect(page.getByTestId("import-picked")).toContainText("4 files");
    await importForm.getByLabel("Template for the imported lab").selectOption({ label: templateLabel });
    await importForm.getByRole("button", { name: "Import lab" }).click();
    await expect(importForm.getByRole("status")).toContainText("Imported a lab with 1 step");
    const editor = await importForm.getByRole("link", { name: "Open it in the editor" }).getAttribute("href");
    return /\/labs\/([^/]+)\/edit/.exec(editor!)![1]!;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

test("a student creates a table in the lab's Postgres sidecar with psql, the step's check sees it, and a reset gives a fresh database", async ({ browser }) => {
  // Most of it is the image build: Debian's postgresql through the mirror proxy.
  test.setTimeout(900_000);
  const staff = await freshPage(browser);
  const courseUrl = await openDemoCourse(staff.page);
  const tag = await buildImage(staff.page, courseUrl, { name: unique("postgres"), dockerfile: POSTGRES_DOCKERFILE, timeout: 720_000 });
  const template = unique("sql");
  await createTemplate(staff.page, courseUrl, template, tag);
  const title = unique("SQL basics");
  const labId = await importLabFolder(staff.page, courseUrl, labFolder(title, tag), `${template} (${tag})`);
  await staff.context.close();

  const { context, page } = await joinAsGuest(browser, "SQL");
  try {
    await page.goto(`/labs/${labId}`);
    await expect(page.getByRole("heading", { name: title })).toBeVisible();
    await expectConnectedTerminal(page);
    const step = page.getByTestId(/^step-\d+$/).filter({ has: page.getByRole("heading", { name: STEP }) });
    const result = step.getByTestId("check-result");

    await step.getByRole("button", { name: "Check", exact: true }).click();
    await expect(result).toHaveAttribute("data-passed", "false", { timeout: 30_000 });
    await expect(result.locator("pre")).toContainText("There is no table named notes yet.");

    await typeInTerminal(page, `psql -h localhost -U postgres -c "create table notes (body text)"`);
    await expect.poll(() => screenText(page)).toMatch(/^CREATE TABLE\s*$/m);
    await typeInTerminal(page, `psql -h localhost -U postgres -c "insert into notes values ('from the browser')"`);
    await expect.poll(() => screenText(page)).toMatch(/^INSERT 0 1\s*$/m);
    await step.getByRole("button", { name: "Check", exact: true }).click();
    await expect(result).toHaveAttribute("data-passed", "true", { timeout: 30_000 });
    await expect(result).toContainText("Passed");

    // A reset replaces the sidecar too: its data lived in tmpfs.
    await page.getByRole("button", { name: "Reset environment" }).click();
    const dialog = page.getByRole("dialog", { name: "Reset your environment?" });
    await dialog.getByRole("button", { name: "Reset", exact: true }).click();
    await expect(dialog).toBeHidden();
    await expectConnectedTerminal(page);
    await typeInTerminal(page, `echo tables=$(${COUNT_NOTES})`);
    await expect.poll(() => screenText(page)).toMatch(/^tables=0\s*$/m);
    await step.getByRole("button", { name: "Check", exact: true }).click();
    await expect(result).toHaveAttribute("data-passed", "false", { timeout: 30_000 });
    await expect(result.locator("pre")).toContainText("There is no table named notes yet.");
  } finally {
    await context.close();
  }
});

/**
 * LTI 1.3 in Chromium, from the platform fixture's course page (tests/support/lti-platform.ts),
 * which frames the tool as an LMS does: a Learner's launch opens the lab with a terminal,
 * and passing both checks posts 2/2 to the LMS line item; an Instructor's launch opens the
 * course's live room; deep linking returns the chosen lab to the LMS. The platform is
 * registered, and its course linked to the demo course, with the real command line
 * (`npm run admin -- lti add`, `lti link`).
 */
import { execFileSync } from "node:child_process";
import { expect, test, type FrameLocator, type Page } from "@playwright/test";
import pg from "pg";
import { CUSTOM_LAB } from "../../server/lti/claims";
import { ROLE, startLtiPlatform, type LaunchSpec, type LtiPlatformFixture } from "../support/lti-platform";
import { expectConnectedTerminal } from "./helpers";

const port = Number(process.env.SHELLROOM_E2E_PORT ?? 3210);
const toolUrl = `http://127.0.0.1:${port}`;
let platform: LtiPlatformFixture;
let lab: { id: string; courseId: string };

async function withDatabase<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

test.beforeAll(async () => {
  platform = await startLtiPlatform({ clientId: `e2e-${Date.now()}` });
  platform.toolUrl = toolUrl;
  const admin = (...args: string[]) => execFileSync("node", ["--import", "tsx", "server/cli/admin.ts", "lti", ...args], { env: process.env, stdio: "pipe" });
  admin(
    "add",
    "--name",
    "E2E LMS",
    "--issuer",
    platform.issuer,
    "--client-id",
    platform.clientId,
    "--auth-url",
    platform.authUrl,
    "--token-url",
    platform.tokenUrl,
    "--jwks-url",
    platform.jwksUrl,
    "--deployment",
    platform.deploymentId,
  );
  lab = await withDatabase(async (client) => {
    const { rows } = await client.query<{ id: string; courseId: string }>(`SELECT id, "courseId" FROM "Lab" WHERE slug = 'first-steps'`);
    // A second checked step, so the lab's score is out of two.
    await client.query(
      `INSERT INTO "LabStep" (id, "labId", position, title, body, "checkScript") VALUES ($1, $2, 50, 'Say world', 'Put the word world in notes.txt.', $3)
       ON CONFLICT DO NOTHING`,
      [`lti-e2e-step`, rows[0]!.id, "grep -q world ~/workspace/notes.txt"],
    );
    return rows[0]!;
  });
  // The LMS course is the demo course, as an operator links it.
  admin("link", "--issuer", platform.issuer, "--client-id", platform.clientId, "--context", "e2e-course", "--course", lab.courseId);
});
test.afterAll(async () => {
  await withDatabase((client) => client.query(`DELETE FROM "LabStep" WHERE id = 'lti-e2e-step'`));
  await platform?.close();
});

const spec = (sub: string, extra: Partial<LaunchSpec> = {}): LaunchSpec => ({
  sub,
  name: `Person ${sub}`,
  roles: [ROLE.learner],
  context: { id: "e2e-course", title: "E2E course" },
  resourceLink: { id: "e2e-link" },
  custom: { [CUSTOM_LAB]: lab.id },
  ...extra,
});

/** The LMS's course page with the tool's launch in its iframe. */
async function openInLms(page: Page, launch: LaunchSpec): Promise<FrameLocator> {
  await page.goto(platform.coursePageUrl(launch));
  return page.frameLocator('iframe[title="Shellroom"]');
}

const stepNamed = (frame: FrameLocator, title: string) => frame.locator('[data-testid^="step-"]', { has: frame.getByRole("heading", { name: title }) });

test("a Learner's launch inside the LMS opens the lab with a terminal; passing both checks posts 2/2 to the line item", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
  try {
    const page = await context.newPage();
    const sub = `learner-${Date.now()}`;
    const frame = await openInLms(page, spec(sub, { lineItem: "e2e-line-item" }));
    await expect(frame.getByRole("heading", { name: "First steps in the shell" })).toBeVisible({ timeout: 60_000 });
    await expect(frame.getByTestId("terminal-status")).toHaveAttribute("data-state", "connected", { timeout: 60_000 });

    await frame.locator(".xterm-helper-textarea").focus();
    await page.keyboard.type("echo hello world > ~/workspace/notes.txt && echo written-ok");
    await page.keyboard.press("Enter");
    for (const title of ["Make a file", "Say world"]) {
      const step = stepNamed(frame, title);
      await expect(async () => {
        await step.getByRole("button", { name: "Check", exact: true }).click();
        await expect(step.getByTestId("check-result")).toHaveAttribute("data-passed", "true", { timeout: 10_000 });
      }).toPass({ timeout: 60_000 });
    }
    await expect
      .poll(() => platform.scores.find((score) => score.lineItem === "e2e-line-item" && score.body.userId === sub && score.body.scoreGiven === 2)?.body, {
        timeout: 60_000,
      })
      .toMatchObject({ scoreGiven: 2, scoreMaximum: 2, activityProgress: "Completed", gradingProgress: "FullyGraded" });
  } finally {
    await context.close();
  }
});

test("a Learner's launch in its own window opens the lab with a terminal", async ({ page }) => {
  await page.goto(platform.loginUrl(spec(`window-${Date.now()}`)));
  await expect(page).toHaveURL(new RegExp(`/labs/${lab.id}$`));
  await expectConnectedTerminal(page);
});

test("an Instructor's launch opens the course's live room", async ({ page }) => {
  await page.goto(platform.loginUrl(spec(`teacher-${Date.now()}`, { roles: [ROLE.instructor] })));
  await expect(page).toHaveURL(new RegExp(`/courses/${lab.courseId}/live$`));
  await expect(page.getByRole("heading", { name: "Intro to the Unix shell" })).toBeVisible();
});

test("deep linking: the instructor picks the lab inside the LMS and the LMS receives it", async ({ page }) => {
  const frame = await openInLms(page, spec(`linker-${Date.now()}`, { roles: [ROLE.instructor], deepLinking: true, custom: undefined }));
  await frame.getByRole("button", { name: "First steps in the shell" }).click();
  await expect(frame.getByText("Content added to the course.")).toBeVisible();
  expect(platform.deepLinkingResponses).toHaveLength(1);
  const [, payload] = platform.deepLinkingResponses[0]!.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<string, unknown>;
  expect(claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]).toMatchObject([{ type: "ltiResourceLink", custom: { [CUSTOM_LAB]: lab.id } }]);
});

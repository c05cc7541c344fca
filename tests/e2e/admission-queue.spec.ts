/**
 * The admission queue in Chromium: a student who arrives when the machine is full sees their
 * place in line, and the terminal appears by itself when a place frees, with no click.
 * The e2e platform has one worker; this spec lowers its recorded capacity to what is already
 * placed (the number placement reads), and gives it back afterwards (also on failure), so
 * the other specs see the platform as it was.
 */
import { expect, test } from "@playwright/test";
import pg from "pg";
import { expectConnectedTerminal } from "./helpers";

const JOIN_PATH = "/join/demo-workshop";
const WORKER_ID = "e2e-worker";

async function withDatabase<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

test("a student past capacity sees their place in line, then the terminal starts by itself", async ({ browser }) => {
  const original = await withDatabase(async (client) => {
    const {
      rows: [worker],
    } = await client.query<{ maxEnvironments: number }>(`SELECT "maxEnvironments" FROM "Worker" WHERE id = $1`, [WORKER_ID]);
    const {
      rows: [placed],
    } = await client.query<{ count: string }>(`SELECT count(*) FROM "Environment" WHERE "workerId" = $1 AND state IN ('STARTING', 'RUNNING')`, [WORKER_ID]);
    expect(worker, "the e2e worker is registered").toBeDefined();
    // Full: every place is taken by what already runs.
    await client.query(`UPDATE "Worker" SET "maxEnvironments" = $2 WHERE id = $1`, [WORKER_ID, Number(placed!.count)]);
    return worker!.maxEnvironments;
  });
  const restore = () => withDatabase((client) => client.query(`UPDATE "Worker" SET "maxEnvironments" = $2 WHERE id = $1`, [WORKER_ID, original]));
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(JOIN_PATH);
    await page.getByLabel("Your name").fill(`Queued ${Date.now() % 100000}`);
    await page.getByRole("button", { name: "Join and open the lab" }).click();
    await expect(page).toHaveURL(/\/labs\/[^/]+$/);

    const place = page.getByTestId("queue-place");
    await expect(place).toHaveAttribute("role", "status");
    await expect(place).toHaveText(/^You are 1st in line · (about \d+ (s|min)|waiting for a place to free up)$/);
    await expect(page.getByRole("button", { name: "Leave the queue" })).toBeEnabled();
    await expect(page.getByTestId("terminal")).toHaveCount(0);

    // A place frees: nobody clicks anything, the page opens the terminal when admitted.
    await restore();
    await expectConnectedTerminal(page);
    await expect(place).toHaveCount(0);
  } finally {
    await restore();
    await context.close();
  }
});

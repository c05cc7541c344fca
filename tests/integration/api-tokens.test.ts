/**
 * API tokens and the REST surface against a running platform: a token acts as its person
 * within its scopes (read exports progress and changes nothing), revoked and expired tokens
 * are refused, a student's token reaches only their own course, and the OpenAPI document
 * validates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { openApiProblems } from "../support/openapi-check";

let harness: Harness;
let instructorCookie: string;
let adminCookie: string;

beforeAll(async () => {
  harness = await startHarness();
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  adminCookie = await harness.signIn("admin@shellroom.local", "shellroom-admin");
});
afterAll(async () => {
  await harness?.close();
});

async function makeToken(cookie: string, scopes: string[], name = "test token"): Promise<{ id: string; secret: string }> {
  const created = await harness.trpc("apiToken.create", { name, scopes, days: 30 }, { cookie });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body.result.data;
}

async function rest(token: string | null, method: "GET" | "POST", route: string, body?: unknown) {
  const response = await fetch(`${harness.url}/api/v1${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as any };
}

const LAB_FOLDER = {
  "lab.yaml": "title: Pushed over the API\npublished: true\nsteps:\n  - title: Make a file\n    body: steps/01.md\n    check: checks/01.sh\n",
  "instructions.md": "# Hello",
  "steps/01.md": "Create ~/workspace/x",
  "checks/01.sh": "test -e ~/workspace/x",
};

describe("a read-scoped token", () => {
  it("lists courses, members and environments, and exports progress", async () => {
    const { secret } = await makeToken(instructorCookie, ["read"]);
    const courses = await rest(secret, "GET", "/courses");
    expect(courses.status).toBe(200);
    expect(courses.body.map((course: { id: string }) => course.id)).toContain(harness.courseId);
    expect((await rest(secret, "GET", `/courses/${harness.courseId}/members`)).body.length).toBeGreaterThan(0);
    expect((await rest(secret, "GET", `/courses/${harness.courseId}/environments`)).status).toBe(200);

    const courseProgress = await rest(secret, "GET", `/courses/${harness.courseId}/progress`);
    expect(courseProgress.status).toBe(200);
    expect(courseProgress.body.csv).toMatch(/^"Lab","Student","Email","Checks passed"/);
    const labProgress = await rest(secret, "GET", `/labs/${harness.labId}/progress`);
    expect(labProgress.status).toBe(200);
    expect(labProgress.body.csv).toMatch(/^"Student","Email"/);
  });

  it("cannot change anything, through REST or tRPC", async () => {
    const { secret } = await makeToken(instructorCookie, ["read"]);
    const coursesBefore = await harness.db.course.count();
    const labsBefore = await harness.db.lab.count();
    expect((await rest(secret, "POST", "/courses", { title: "Not allowed" })).status).toBe(403);
    expect((await rest(secret, "POST", `/courses/${harness.courseId}/labs`, { files: LAB_FOLDER })).status).toBe(403);
    expect((await rest(secret, "POST", `/courses/${harness.courseId}/members`, { email: "student@shellroom.local" })).status).toBe(403);
    const bearer = { headers: { authorization: `Bearer ${secret}` }, origin: null };
    expect((await harness.trpc("course.create", { title: "Not allowed either" }, bearer)).status).toBe(403);
    // Procedures that name no scope are for people: a token cannot make tokens or touch credentials.
    expect((await harness.trpc("apiToken.create", { name: "more", scopes: ["courses:write"] }, bearer)).status).toBe(403);
    expect((await harness.trpc("auth.signOutEverywhere", null, bearer)).status).toBe(403);
    expect(await harness.db.course.count()).toBe(coursesBefore);
    expect(await harness.db.lab.count()).toBe(labsBefore);
  });

  it("a progress:read token exports progress and reads nothing else", async () => {
    const { secret } = await makeToken(instructorCookie, ["progress:read"]);
    expect((await rest(secret, "GET", `/courses/${harness.courseId}/progress`)).status).toBe(200);
    expect((await rest(secret, "GET", `/courses/${harness.courseId}/members`)).status).toBe(403);
  });
});

describe("tokens that are no longer good", () => {
  it("a revoked token is refused, and its secret is stored only as a hash", async () => {
    const { id, secret } = await makeToken(instructorCookie, ["read"]);
    expect((await rest(secret, "GET", "/courses")).status).toBe(200);
    const stored = await harness.db.apiToken.findUniqueOrThrow({ where: { id } });
    expect(stored.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored.lastUsedAt).not.toBeNull();

    expect((await harness.trpc("apiToken.revoke", { tokenId: id }, { cookie: instructorCookie })).status).toBe(200);
    expect((await rest(secret, "GET", "/courses")).status).toBe(401);
    expect((await harness.trpc("course.mine", null, { method: "GET", headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it("an expired token is refused", async () => {
    const { id, secret } = await makeToken(instructorCookie, ["read"]);
    await harness.db.apiToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await rest(secret, "GET", "/courses")).status).toBe(401);
  });

  it("no token, or a made-up one, is refused; a session cookie does not open the REST surface", async () => {
    expect((await rest(null, "GET", "/courses")).status).toBe(401);
    expect((await rest("shr_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "GET", "/courses")).status).toBe(401);
    const withCookie = await fetch(`${harness.url}/api/v1/courses`, { headers: { cookie: instructorCookie } });
    expect(withCookie.status).toBe(401);
  });
});

describe("a token acts within its person's rights", () => {
  it("a student's token cannot read another course, nor its own course's roster", async () => {
    const student = await harness.newStudent("Token Student");
    const { secret: writer } = await makeToken(instructorCookie, ["courses:write"]);
    const other = await rest(writer, "POST", "/courses", { title: "Another course" });
    expect(other.status).toBe(200);

    const { secret } = await makeToken(student.cookie, ["read", "courses:write", "labs:write", "environments:write"]);
    const mine = await rest(secret, "GET", "/courses");
    expect(mine.body.map((course: { id: string }) => course.id)).toEqual([harness.courseId]);
    expect((await rest(secret, "GET", `/courses/${other.body.id}/members`)).status).toBe(404);
    expect((await rest(secret, "GET", `/courses/${other.body.id}/progress`)).status).toBe(404);
    expect((await rest(secret, "GET", `/courses/${harness.courseId}/members`)).status).toBe(403);
    expect((await rest(secret, "GET", `/labs/${harness.labId}/progress`)).status).toBe(403);
    // Scoped to create courses, but a student may not create one.
    expect((await rest(secret, "POST", "/courses", { title: "A student's course" })).status).toBe(403);
  });

  it("write scopes create a course, add a member and push a lab (again: an update)", async () => {
    const { secret } = await makeToken(instructorCookie, ["courses:write", "labs:write", "read"]);
    const course = await rest(secret, "POST", "/courses", { title: "Made over the API" });
    expect(course.status).toBe(200);
    const added = await rest(secret, "POST", `/courses/${course.body.id}/members`, { email: "student@shellroom.local" });
    expect(added.body).toMatchObject({ role: "STUDENT", created: true });
    // A new course has no template of its own yet: the lab goes into the demo course, which has one.
    expect((await rest(secret, "POST", `/courses/${course.body.id}/labs`, { files: LAB_FOLDER })).status).toBe(412);
    const first = await rest(secret, "POST", `/courses/${harness.courseId}/labs`, { files: LAB_FOLDER });
    expect(first.body).toMatchObject({ steps: 1, created: true });
    const again = await rest(secret, "POST", `/courses/${harness.courseId}/labs`, { files: { ...LAB_FOLDER, "instructions.md": "# Changed" } });
    expect(again.body).toMatchObject({ labId: first.body.labId, created: false });
    expect((await harness.db.lab.findUniqueOrThrow({ where: { id: first.body.labId } })).instructions).toBe("# Changed");
  });

  it("an administrator's service token acts as its service account", async () => {
    const created = await harness.trpc("apiToken.createService", { name: "LMS sync", role: "ADMIN", scopes: ["read"], days: 7 }, { cookie: adminCookie });
    expect(created.status).toBe(200);
    const members = await rest(created.body.result.data.secret, "GET", `/courses/${harness.courseId}/members`);
    expect(members.status).toBe(200);
    // An instructor cannot make one.
    expect((await harness.trpc("apiToken.createService", { name: "x", role: "ADMIN", scopes: ["read"] }, { cookie: instructorCookie })).status).toBe(403);
  });
});

describe("the OpenAPI document", () => {
  it("is served at /api/v1/openapi.json and validates", async () => {
    const response = await fetch(`${harness.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(openApiProblems(document)).toEqual([]);
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/courses",
        "/courses/{courseId}/members",
        "/courses/{courseId}/labs",
        "/courses/{courseId}/environments",
        "/courses/{courseId}/progress",
      ]),
    );
    expect(document.servers[0].url).toBe(`${harness.url}/api/v1`);
  });

  it("the check finds a broken document", () => {
    expect(openApiProblems({ openapi: "2.0", info: {}, paths: { "/x/{id}": { get: { responses: {} } } } })).toHaveLength(5);
  });
});

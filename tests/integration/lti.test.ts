/**
 * Shellroom as an LTI 1.3 tool, driven by an LMS built from the specifications' message
 * formats (tests/support/lti-platform.ts): launches make accounts, courses and memberships
 * and open the lab or the live room; forged, replayed, expired or misdirected launches are
 * refused; passing checks posts the score to the LMS line item; deep linking answers with a
 * signed lab choice; the roster enrols the LMS course's members.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAIM, CUSTOM_LAB, DEEP_LINKING_RESPONSE } from "../../server/lti/claims";
import { registerPlatform } from "../../server/lti/platforms";
import { linkContext } from "../../server/lti/provisioning";
import { KEY_ACTIVATION_MS, rotateToolKey } from "../../server/lti/tool-keys";
import { ROLE, formFields, startLtiPlatform, type LtiPlatformFixture } from "../support/lti-platform";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { until } from "../support/until";

let harness: Harness;
let platform: LtiPlatformFixture;
let labId: string;
let stepIds: string[];

beforeAll(async () => {
  harness = await startHarness();
  platform = await startLtiPlatform();
  platform.toolUrl = harness.url;
  const registered = await registerPlatform(harness.db, {
    name: "Test LMS",
    issuer: platform.issuer,
    clientId: platform.clientId,
    authLoginUrl: platform.authUrl,
    accessTokenUrl: platform.tokenUrl,
    jwksUrl: platform.jwksUrl,
    deploymentIds: [platform.deploymentId],
    frameOrigins: ["https://lms.example.edu"],
  });
  // The operator makes the LMS course "course-101" the demo course (npm run admin -- lti link).
  await linkContext(harness.db, registered.id, "course-101", harness.courseId);
  const template = await harness.db.environmentTemplate.findFirstOrThrow({ where: { courseId: harness.courseId } });
  const lab = await harness.db.lab.create({
    data: {
      courseId: harness.courseId,
      templateId: template.id,
      slug: `lti-${Date.now()}`,
      title: "Files lab",
      published: true,
      steps: {
        create: [
          { position: 0, title: "Create hello.txt", checkScript: "test -f ~/workspace/hello.txt" },
          { position: 1, title: "Say world", checkScript: "grep -q world ~/workspace/hello.txt" },
          { position: 2, title: "Read along" },
        ],
      },
    },
    include: { steps: { orderBy: { position: "asc" } } },
  });
  labId = lab.id;
  stepIds = lab.steps.map((step) => step.id);
});
afterAll(async () => {
  await harness?.close();
  await platform?.close();
});

const learner = (sub: string, extra: Partial<Parameters<LtiPlatformFixture["launch"]>[0]> = {}) => ({
  sub,
  name: `Learner ${sub}`,
  roles: [ROLE.learner, ROLE.student],
  context: { id: "course-101", title: "Linux 101" },
  resourceLink: { id: "link-files" },
  custom: { [CUSTOM_LAB]: labId },
  ...extra,
});
const instructor = (sub: string, extra: Partial<Parameters<LtiPlatformFixture["launch"]>[0]> = {}) => ({
  ...learner(sub, extra),
  name: `Instructor ${sub}`,
  roles: [ROLE.instructor],
  ...extra,
});

async function refusal(response: Response) {
  return { status: response.status, code: response.headers.get("x-lti-refusal") };
}

describe("LTI launch", () => {
  it("a Learner's launch creates the account and the enrolment, signs in and opens the lab", async () => {
    const { response, cookie } = await platform.launch(learner("learner-1"));
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/labs/${labId}`);
    expect(cookie).toBeTruthy();

    const identity = await harness.db.ltiIdentity.findFirstOrThrow({ where: { subject: "learner-1" }, include: { user: true } });
    expect(identity.user).toMatchObject({ displayName: "Learner learner-1", role: "STUDENT", email: null });
    const membership = await harness.db.courseMember.findUniqueOrThrow({ where: { courseId_userId: { courseId: harness.courseId, userId: identity.userId } } });
    expect(membership.role).toBe("STUDENT");
    // The session is a real one: the lab answers this student.
    const lab = await harness.trpc("lab.byId", { labId }, { cookie, method: "GET" });
    expect(lab.status).toBe(200);

    // The same LMS user again is the same account.
    await platform.launch(learner("learner-1"));
    expect(await harness.db.ltiIdentity.count({ where: { subject: "learner-1" } })).toBe(1);
  });

  it("an Instructor's launch makes them the course's instructor and opens its live room", async () => {
    const { response, cookie } = await platform.launch(instructor("teacher-1"));
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/courses/${harness.courseId}/live`);
    const identity = await harness.db.ltiIdentity.findFirstOrThrow({ where: { subject: "teacher-1" } });
    const membership = await harness.db.courseMember.findUniqueOrThrow({ where: { courseId_userId: { courseId: harness.courseId, userId: identity.userId } } });
    expect(membership.role).toBe("INSTRUCTOR");
    const overview = await harness.trpc("live.overview", { courseId: harness.courseId }, { cookie, method: "GET" });
    expect(overview.status).toBe(200);
  });

  it("an LMS course launched for the first time becomes a new Shellroom course", async () => {
    const { response } = await platform.launch(instructor("teacher-2", { context: { id: "course-202", title: "Networks 202" }, custom: undefined }));
    const context = await harness.db.ltiContext.findFirstOrThrow({ where: { contextId: "course-202" }, include: { course: true } });
    expect(context.course.title).toBe("Networks 202");
    expect(context.courseId).not.toBe(harness.courseId);
    expect(response.headers.get("location")).toBe(`/courses/${context.courseId}/live`);
  });

  it("a link cannot open a lab of another course, nor make its LMS course that course", async () => {
    // An LMS instructor may write custom parameters; naming another course's lab reaches nothing.
    const { response } = await platform.launch(
      instructor("teacher-3", { context: { id: "course-505", title: "Elsewhere 505" }, resourceLink: { id: "link-505" } }),
    );
    const context = await harness.db.ltiContext.findFirstOrThrow({ where: { contextId: "course-505" } });
    expect(context.courseId).not.toBe(harness.courseId);
    expect(response.headers.get("location")).toBe(`/courses/${context.courseId}/live`);
    const link = await harness.db.ltiResourceLink.findFirstOrThrow({ where: { linkId: "link-505" } });
    expect(link.labId).toBeNull();
    const student = await platform.launch(learner("learner-505", { context: { id: "course-505" }, resourceLink: { id: "link-505" } }));
    expect(await refusal(student.response)).toEqual({ status: 400, code: "invalid_request" });
  });

  it("a Learner's link that names no lab is refused with words for the student", async () => {
    const { response } = await platform.launch(learner("learner-2", { context: { id: "course-303" }, resourceLink: { id: "link-empty" }, custom: undefined }));
    expect(await refusal(response)).toEqual({ status: 400, code: "invalid_request" });
    expect(await response.text()).toContain("not connected to a Shellroom lab");
  });
});

describe("LTI launches refused", () => {
  it("a replayed launch (the same id_token and state again) is refused", async () => {
    const { response, form } = await platform.launch(learner("replayer"));
    expect(response.status).toBe(303);
    expect(await refusal(await platform.post(form))).toEqual({ status: 401, code: "invalid_state" });
  });

  it("an id_token whose nonce was used is refused with a fresh state", async () => {
    const first = await platform.launch(learner("nonce-replayer"));
    expect(first.response.status).toBe(303);
    const second = await platform.launch(learner("nonce-replayer"));
    // The old token under the new, unused state: its nonce is not this login's.
    const replay = await platform.post({ ...second.form, id_token: first.form.id_token, state: await freshState() });
    expect(await refusal(replay)).toEqual({ status: 401, code: "nonce_mismatch" });
  });

  it("a token for another tool (wrong audience) is refused", async () => {
    const { response } = await platform.launch(learner("aud", { overrides: { aud: "another-tool" } }));
    expect(await refusal(response)).toEqual({ status: 401, code: "wrong_audience" });
  });

  it("an expired token is refused", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const { response } = await platform.launch(learner("expired", { overrides: { iat: past - 300, exp: past } }));
    expect(await refusal(response)).toEqual({ status: 401, code: "expired_token" });
  });

  it("an unknown deployment is refused", async () => {
    const { response } = await platform.launch(learner("deployment", { overrides: { [CLAIM.deploymentId]: "deployment-unknown" } }));
    expect(await refusal(response)).toEqual({ status: 401, code: "unknown_deployment" });
  });

  it("a token signed with a key the platform does not publish is refused", async () => {
    const { response } = await platform.launch(learner("forger", { foreignKey: true }));
    expect(await refusal(response)).toEqual({ status: 401, code: "invalid_token" });
  });

  it("no account is made by a refused launch, and the refusal page may be framed only by registered platforms", async () => {
    const { response } = await platform.launch(learner("never-made", { overrides: { aud: "another-tool" } }));
    expect(await harness.db.ltiIdentity.count({ where: { subject: "never-made" } })).toBe(0);
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toBe(`frame-ancestors 'self' ${platform.issuer} https://lms.example.edu`);
  });
});

describe("a platform registered elsewhere", () => {
  it("may frame Shellroom from its first login, though this server's framing policy was read before it existed", async () => {
    const policyNow = async () => {
      const { response } = await platform.launch(learner("policy-probe", { overrides: { aud: "another-tool" } }));
      return response.headers.get("content-security-policy") ?? "";
    };
    const other = await startLtiPlatform({ clientId: "registered-by-the-command-line" });
    other.toolUrl = harness.url;
    try {
      expect(await policyNow()).not.toContain(other.issuer); // read now: cached
      // As `npm run admin -- lti add` does it from another process: this server's cache is not told.
      await harness.db.ltiPlatform.create({
        data: {
          name: "LMS added from the command line",
          issuer: other.issuer,
          clientId: other.clientId,
          authLoginUrl: other.authUrl,
          accessTokenUrl: other.tokenUrl,
          jwksUrl: other.jwksUrl,
          deploymentIds: [other.deploymentId],
        },
      });
      expect(await policyNow()).not.toContain(other.issuer); // the cached policy predates it

      const login = await fetch(other.loginUrl(learner("first-launch")), { redirect: "manual" });
      expect(login.status).toBe(302);
      // The page its launch opens may now be framed by it.
      expect((await policyNow()).split(" ")).toContain(other.issuer);
    } finally {
      await other.close();
      await harness.db.ltiPlatform.deleteMany({ where: { clientId: "registered-by-the-command-line" } });
    }
  });
});

/** A login state the tool issued just now (the platform's auth request carries it). */
async function freshState(): Promise<string> {
  const login = await fetch(platform.loginUrl(learner("state-only")), { redirect: "manual" });
  return new URL(login.headers.get("location")!).searchParams.get("state")!;
}

describe("Assignment and Grade Services", () => {
  it("passing both checks posts 2/2 to the link's line item, signed in with a client assertion", async () => {
    const { cookie } = await platform.launch(learner("scored", { resourceLink: { id: "link-graded" }, lineItem: "files-lab" }));
    const started = await harness.trpc("environment.startForLab", { labId }, { cookie });
    expect(started.status).toBe(200);
    const environmentId = started.body.result.data.environmentId as string;
    await runInEnvironment(harness.driver, environmentId, "echo hello world > ~/workspace/hello.txt");
    for (const stepId of stepIds.slice(0, 2)) {
      const checked = await harness.trpc("step.check", { labId, stepId }, { cookie });
      expect(checked.body.result.data.passed).toBe(true);
    }

    const final = await until("the score 2/2 at the LMS", () => platform.scores.find((score) => score.lineItem === "files-lab" && score.body.scoreGiven === 2));
    expect(final.contentType).toBe("application/vnd.ims.lis.v1.score+json");
    expect(final.body).toMatchObject({ userId: "scored", scoreGiven: 2, scoreMaximum: 2, activityProgress: "Completed", gradingProgress: "FullyGraded" });
    expect(Date.parse(final.body.timestamp as string)).not.toBeNaN();
    expect(platform.assertions.at(-1)).toMatchObject({ iss: platform.clientId, sub: platform.clientId, aud: platform.tokenUrl });
    // What was posted is remembered, so an unchanged score is not posted again.
    await until("the posted score recorded", () =>
      harness.db.ltiGradeSync.findFirst({ where: { resourceLink: { linkId: "link-graded" }, scoreGiven: 2, scoreMaximum: 2, lastError: null } }),
    );
  });

  it("a score the LMS refuses for a while is posted once it accepts again", async () => {
    const { cookie } = await platform.launch(learner("retried", { resourceLink: { id: "link-retried" }, lineItem: "retried-lab" }));
    const started = await harness.trpc("environment.startForLab", { labId }, { cookie });
    await runInEnvironment(harness.driver, started.body.result.data.environmentId as string, "touch ~/workspace/hello.txt");
    platform.failScores = 1;
    await harness.trpc("step.check", { labId, stepId: stepIds[0] }, { cookie });
    const posted = await until("the retried score", () => platform.scores.find((score) => score.lineItem === "retried-lab"), 60_000);
    expect(posted.body).toMatchObject({ userId: "retried", scoreGiven: 1, scoreMaximum: 2, activityProgress: "InProgress" });
    expect(platform.failScores).toBe(0);
  });
});

describe("Deep Linking", () => {
  it("the instructor picks a lab and the LMS receives it signed with the tool's published key", async () => {
    const { response, cookie } = await platform.launch(instructor("linker", { deepLinking: true, custom: undefined }));
    expect(response.status).toBe(303);
    const picker = new URL(response.headers.get("location")!, harness.url).toString();
    const page = await fetch(picker, { headers: { cookie: cookie! } });
    expect(await page.text()).toContain("Files lab");
    // Another person's session cannot use this request.
    const stranger = await harness.newStudent("Stranger");
    expect((await fetch(picker, { headers: { cookie: stranger.cookie } })).status).toBe(404);

    const chosen = await fetch(picker, {
      method: "POST",
      headers: { cookie: cookie!, origin: harness.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ labId }),
    });
    const { action, fields } = formFields(await chosen.text());
    expect(action).toBe(`${platform.issuer}/deep-link-return`);
    const { payload } = await jwtVerify(fields.JWT!, createRemoteJWKSet(new URL(`${harness.url}/api/lti/jwks`)), {
      issuer: platform.clientId,
      audience: platform.issuer,
    });
    expect(payload[CLAIM.messageType]).toBe(DEEP_LINKING_RESPONSE);
    expect(payload[CLAIM.version]).toBe("1.3.0");
    expect(payload[CLAIM.deploymentId]).toBe(platform.deploymentId);
    expect(payload[CLAIM.deepLinkingData]).toBe("platform-opaque-data");
    expect(payload[CLAIM.contentItems]).toEqual([
      {
        type: "ltiResourceLink",
        title: "Files lab",
        url: `${harness.url}/api/lti/launch`,
        custom: { [CUSTOM_LAB]: labId },
        lineItem: { scoreMaximum: 2, label: "Files lab", resourceId: labId },
      },
    ]);
    // Single use: the same choice again is refused.
    const again = await fetch(picker, {
      method: "POST",
      headers: { cookie: cookie!, origin: harness.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ labId }),
    });
    expect(again.status).toBe(404);
  });

  it("a rotated key is published at once, signs once published for an hour, and the previous key stays published", async () => {
    const signingKid = async () => {
      const { response, cookie } = await platform.launch(instructor(`linker-${crypto.randomUUID()}`, { deepLinking: true, custom: undefined }));
      const picker = new URL(response.headers.get("location")!, harness.url).toString();
      const chosen = await fetch(picker, {
        method: "POST",
        headers: { cookie: cookie!, origin: harness.url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ labId }),
      });
      return decodeProtectedHeader(formFields(await chosen.text()).fields.JWT!).kid;
    };
    const published = async () => ((await (await fetch(`${harness.url}/api/lti/jwks`)).json()) as { keys: { kid: string; d?: string }[] }).keys;
    const before = await signingKid();
    const kid = await rotateToolKey(harness.db);
    const keys = await published();
    expect(keys.map((key) => key.kid)).toEqual([kid, before]);
    expect(keys.every((key) => key.d === undefined)).toBe(true); // public halves only
    expect(await signingKid()).toBe(before); // platforms may not have fetched the new key yet

    // An hour later (the key's age moved back), the new key signs; the old one stays published.
    await harness.db.ltiToolKey.update({ where: { id: kid }, data: { createdAt: new Date(Date.now() - KEY_ACTIVATION_MS - 1000) } });
    expect(await signingKid()).toBe(kid);
    expect((await published()).map((key) => key.kid).sort()).toEqual([kid, before].sort());
  });
});

describe("Names and Role Provisioning", () => {
  it("an instructor's launch fetches the roster: members are enrolled with their roles and the learners become expected seats", async () => {
    platform.rosters.set("course-404", [
      { user_id: "roster-teacher", name: "Ada Teacher", roles: [ROLE.instructor] },
      { user_id: "roster-1", name: "Bo Learner", roles: [ROLE.learner] },
      { user_id: "roster-2", name: "Cy Learner", roles: [ROLE.learner] },
      { user_id: "roster-gone", name: "Di Gone", roles: [ROLE.learner], status: "Inactive" },
    ]);
    await platform.launch(instructor("roster-teacher", { context: { id: "course-404", title: "Security 404" }, custom: undefined, roster: true }));
    const context = await harness.db.ltiContext.findFirstOrThrow({ where: { contextId: "course-404" } });
    const members = await until("the roster's members enrolled", async () => {
      const rows = await harness.db.courseMember.findMany({ where: { courseId: context.courseId }, include: { user: true } });
      return rows.length === 3 && rows;
    });
    expect(members.map((member) => [member.user.displayName, member.role]).sort()).toEqual([
      ["Ada Teacher", "INSTRUCTOR"],
      ["Bo Learner", "STUDENT"],
      ["Cy Learner", "STUDENT"],
    ]);
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: context.courseId } })).expectedSeats).toBe(2);
    // A roster learner launching later is the account the roster made.
    await platform.launch(learner("roster-1", { context: { id: "course-404" }, resourceLink: { id: "link-404" }, custom: undefined }));
    expect(await harness.db.ltiIdentity.count({ where: { subject: "roster-1" } })).toBe(1);
  });
});

/** The LTI messages Shellroom reads and writes, without a platform: roles, names, scores and the embedded cookie. */
import { describe, expect, it } from "vitest";
import { embeddedSessionCookie } from "../../server/auth/cookies";
import { courseRoleForLtiRoles, displayNameOf } from "../../server/lti/claims";
import { scoreMessage, scoresUrl } from "../../server/lti/grades";

const MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership";

describe("LTI roles", () => {
  it("Instructor is the course's instructor, a teaching assistant an assistant, a Learner or anyone else a student", () => {
    expect(courseRoleForLtiRoles([`${MEMBERSHIP}#Instructor`])).toBe("INSTRUCTOR");
    expect(courseRoleForLtiRoles(["Instructor"])).toBe("INSTRUCTOR");
    expect(courseRoleForLtiRoles([`${MEMBERSHIP}/Instructor#TeachingAssistant`])).toBe("ASSISTANT");
    expect(courseRoleForLtiRoles([`${MEMBERSHIP}#Learner`])).toBe("STUDENT");
    expect(courseRoleForLtiRoles([`${MEMBERSHIP}#Mentor`])).toBe("STUDENT");
    // An institution-wide administrator is not thereby staff of this course.
    expect(courseRoleForLtiRoles(["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"])).toBe("STUDENT");
    expect(courseRoleForLtiRoles([])).toBe("STUDENT");
  });

  it("names come from name, or given and family names, and fit a display name", () => {
    expect(displayNameOf({ name: " Ada Lovelace " })).toBe("Ada Lovelace");
    expect(displayNameOf({ given_name: "Ada", family_name: "Lovelace" })).toBe("Ada Lovelace");
    expect(displayNameOf({})).toBe("LMS user");
    expect(displayNameOf({ name: "x".repeat(500) }).length).toBeLessThanOrEqual(60);
  });
});

describe("AGS scores", () => {
  it("are checks passed out of checks, Completed with the completion time once all pass", () => {
    const checkedAt = new Date("2026-12-01T10:00:00Z");
    const completedAt = new Date("2026-12-01T09:59:00Z");
    expect(scoreMessage("sub-1", { given: 2, maximum: 2, checkedAt, completedAt })).toEqual({
      userId: "sub-1",
      scoreGiven: 2,
      scoreMaximum: 2,
      comment: "2 of 2 checks passed",
      timestamp: checkedAt.toISOString(),
      activityProgress: "Completed",
      gradingProgress: "FullyGraded",
      submission: { submittedAt: completedAt.toISOString() },
    });
    expect(scoreMessage("sub-1", { given: 1, maximum: 2, checkedAt, completedAt: null })).toMatchObject({ activityProgress: "InProgress", scoreGiven: 1 });
  });

  it("go to the line item's /scores, keeping its query", () => {
    expect(scoresUrl("https://lms.example.edu/api/lti/courses/1/line_items/7?x=1")).toBe("https://lms.example.edu/api/lti/courses/1/line_items/7/scores?x=1");
    expect(scoresUrl("https://lms.example.edu/lineitems/7/")).toBe("https://lms.example.edu/lineitems/7/scores");
  });
});

describe("the session cookie of an LTI launch", () => {
  const expires = new Date("2030-01-01T00:00:00Z");
  it("is SameSite=None; Secure; Partitioned over HTTPS, so it is sent inside the LMS's iframe", () => {
    expect(embeddedSessionCookie("tok", expires, true)).toBe(
      "shellroom_session=tok; HttpOnly; SameSite=None; Secure; Partitioned; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT",
    );
  });
  it("is the ordinary Lax cookie over plain HTTP (browsers refuse SameSite=None without Secure)", () => {
    expect(embeddedSessionCookie("tok", expires, false)).toContain("SameSite=Lax");
  });
});

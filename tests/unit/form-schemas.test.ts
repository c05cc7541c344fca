/**
 * The schemas forms check in the browser are the routers' own (common/forms): what a form
 * submits after its own parse passes the router's parse unchanged, and a refusal names the
 * field the form shows it beside.
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { CredentialsForm, CredentialsInput, SignUpInput } from "../../common/forms/accounts";
import { CourseDetailsInput, NewCourseInput } from "../../common/forms/courses";
import { JoinInput, JoinLinkSettings } from "../../common/forms/join-links";
import { LabInput } from "../../common/forms/labs";
import { PrepareInput, RaiseHandInput } from "../../common/forms/live-room";
import { TemplateForm, TemplateInput } from "../../common/forms/templates";
import { showServerFieldErrors } from "../../app/components/server-field-errors";

/** Each refused field's first message, by path. */
function refusals(schema: z.ZodType, input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  if (result.success) return {};
  const byPath: Record<string, string> = {};
  for (const issue of result.error.issues) byPath[issue.path.join(".")] ??= issue.message;
  return byPath;
}

/** What the form sends is its own parse; the server parses that again. */
function roundTrip<S extends z.ZodType>(form: z.ZodType, server: S, typed: unknown) {
  const sent = JSON.parse(JSON.stringify(form.parse(typed))) as unknown;
  return { sent, received: server.parse(sent) };
}

const TEMPLATE = {
  name: " Small box ",
  image: "shellroom/default:1",
  cpus: 0.5,
  memoryMb: 256,
  memoryReservationMb: 64,
  pidsLimit: 128,
  diskMb: 512,
  network: "NONE",
  idleTimeoutMinutes: 15,
  maxLifetimeMinutes: 60,
  workingDir: "/home/student/workspace",
  setupScript: "  ",
  warmPoolSize: 0,
};

describe("forms and routers share their schemas", () => {
  it("a sign-up's email is trimmed and lowercased once in the browser and stays so on the server", () => {
    const { sent, received } = roundTrip(SignUpInput, SignUpInput, { displayName: " Ada ", email: "  Ada@Example.TEST ", password: "a good long password" });
    expect(sent).toEqual({ displayName: "Ada", email: "ada@example.test", password: "a good long password" });
    expect(received).toEqual(sent);
    expect(refusals(SignUpInput, { displayName: "Ada", email: "not-an-email", password: "short" })).toEqual({
      email: "Enter a valid email address",
      password: "Use at least 10 characters",
    });
  });

  it("the account form asks for the same password twice, and sends what the router takes", () => {
    const typed = { email: "a@b.test", password: "a good long password", confirm: "something else entirely", currentPassword: "" };
    expect(refusals(CredentialsForm, typed)).toEqual({ confirm: "The two passwords are not the same" });
    const { email, password } = CredentialsForm.parse({ ...typed, confirm: typed.password });
    expect(CredentialsInput.parse({ email, password })).toEqual({ email, password });
  });

  it("joining needs a name; an empty email is none", () => {
    expect(refusals(JoinInput, { code: "demo-join", displayName: "", email: "" })).toEqual({ displayName: "Enter a name others will see" });
    expect(JoinInput.parse({ code: " Demo-Join ", displayName: "Zoe", email: "" })).toEqual({ code: "demo-join", displayName: "Zoe", email: undefined });
  });

  it("a course's dates are typed in local time, sent as instants, and must be in order", () => {
    const typed = { title: "Shell basics", description: "", kind: "WORKSHOP", startsAt: "2030-05-02T10:00", endsAt: "", expectedSeats: null };
    const { sent, received } = roundTrip(CourseDetailsInput, CourseDetailsInput, typed);
    expect(sent).toMatchObject({ startsAt: new Date(2030, 4, 2, 10, 0).toISOString(), endsAt: null, expectedSeats: null });
    expect(received).toEqual({ ...typed, startsAt: new Date(2030, 4, 2, 10, 0), endsAt: null });
    expect(refusals(CourseDetailsInput, { ...typed, endsAt: "2030-05-01T10:00" })).toEqual({ endsAt: "The end comes after the start" });
    expect(refusals(CourseDetailsInput, { ...typed, title: "ab", startsAt: "next tuesday", expectedSeats: Number.NaN })).toEqual({
      title: "Use at least 3 characters",
      startsAt: "Enter a full date and time, or leave it empty",
      expectedSeats: "A whole number from 1 to 1000, or leave it empty",
    });
    expect(NewCourseInput.parse({ title: "Shell basics" })).toEqual({ title: "Shell basics", description: "", kind: "COURSE", startsAt: null, endsAt: null });
  });

  it("a join link's seat limit and expiry: empty is none, a bad number is explained", () => {
    expect(JoinLinkSettings.parse({ enabled: true, expiresAt: "", seatLimit: null })).toEqual({ enabled: true, expiresAt: null, seatLimit: null });
    expect(refusals(JoinLinkSettings, { enabled: true, expiresAt: "", seatLimit: 0 })).toEqual({ seatLimit: "At least one seat" });
    expect(refusals(JoinLinkSettings, { enabled: true, expiresAt: "", seatLimit: 2.5 })).toEqual({
      seatLimit: "Enter a whole number of seats, or leave it empty for no limit",
    });
  });

  it("the template form types CPUs and sends thousandths, refused with the API's own bounds beside the CPUs field", () => {
    const { sent, received } = roundTrip(TemplateForm, TemplateInput, TEMPLATE);
    expect(sent).toMatchObject({ name: "Small box", cpuMillis: 500, setupScript: null });
    expect(sent).not.toHaveProperty("cpus");
    expect(received).toEqual(sent);
    expect(refusals(TemplateForm, { ...TEMPLATE, name: "", cpus: 20, idleTimeoutMinutes: 1, diskMb: Number.NaN })).toEqual({
      name: "Name the template",
      cpus: "At most 8 CPUs",
      idleTimeoutMinutes: "At least 5 minutes",
      diskMb: "Enter a whole number",
    });
  });

  it("a template's reservation is at most its limit, but a wrong limit is that field's error alone", () => {
    expect(refusals(TemplateForm, { ...TEMPLATE, memoryMb: 128, memoryReservationMb: 256 })).toEqual({ memoryReservationMb: "At most the memory limit" });
    expect(refusals(TemplateForm, { ...TEMPLATE, memoryMb: 1, memoryReservationMb: 256 })).toEqual({ memoryMb: "At least 64 MiB" });
    expect(refusals(TemplateInput, { ...TEMPLATE, cpus: undefined, cpuMillis: 500, memoryMb: 128, memoryReservationMb: 256 })).toEqual({
      memoryReservationMb: "At most the memory limit",
    });
  });

  it("a lab's blank hints and checks are stored as none; each step's problem names its step", () => {
    const step = { title: "Make one.txt", body: "", hint: " ", checkScript: "\n", checkTimeoutSeconds: 10 };
    const lab = { templateId: "t1", title: "Files", instructions: "", published: false, steps: [step] };
    expect(LabInput.parse(lab).steps[0]).toMatchObject({ hint: null, checkScript: null });
    expect(refusals(LabInput, { ...lab, templateId: "", title: " ", steps: [step, { ...step, title: "", checkTimeoutSeconds: Number.NaN }] })).toEqual({
      templateId: "Choose an environment template",
      title: "Give the lab a title",
      "steps.1.title": "Give the step a title",
      "steps.1.checkTimeoutSeconds": "Enter a whole number of seconds",
    });
  });

  it("the live room's numbers and notes", () => {
    expect(refusals(PrepareInput, { seats: null })).toEqual({ seats: "Enter a number of students" });
    expect(refusals(PrepareInput, { seats: 0 })).toEqual({ seats: "Prepare at least 1 seat" });
    expect(RaiseHandInput.parse({})).toEqual({ note: "" });
  });
});

describe("the server's field errors on the form", () => {
  it("each lands on the form's field (renamed where the form calls it otherwise); others are left to the form's message", () => {
    const placed: Array<[string, string]> = [];
    const error = {
      message: "bad input",
      data: {
        zodError: {
          fieldErrors: {},
          issues: [
            { path: ["cpuMillis"], message: "At most 8 CPUs" },
            { path: ["steps", 2, "title"], message: "Give the step a title" },
            { path: ["steps", 2, "title"], message: "a second message for the same field" },
            { path: ["courseId"], message: "must be an id" },
          ],
        },
      },
    };
    showServerFieldErrors((name, { message }) => placed.push([name, message ?? ""]), error as never, ["cpuMillis", "steps"], { cpuMillis: "cpus" });
    expect(placed).toEqual([
      ["cpus", "At most 8 CPUs"],
      ["steps.2.title", "Give the step a title"],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { blankSessionCookie, readCookie, sessionCookie } from "../../server/auth/cookies";
import { generateSessionToken, sessionIdOf } from "../../server/auth/sessions";
import { originAllowed } from "../../server/auth/origin";

describe("session tokens", () => {
  it("are 160 random bits in lower-case base32, and only their SHA-256 is stored", () => {
    const token = generateSessionToken();
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(generateSessionToken()).not.toBe(token);
    const id = sessionIdOf(token);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id).not.toContain(token);
    // Known vector: SHA-256("abc").
    expect(sessionIdOf("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("the session cookie", () => {
  const expires = new Date("2030-01-01T00:00:00Z");
  it("is HttpOnly and SameSite=Lax, and Secure only over HTTPS", () => {
    expect(sessionCookie("tok", expires, false)).toBe("shellroom_session=tok; HttpOnly; SameSite=Lax; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT");
    expect(sessionCookie("tok", expires, true)).toMatch(/; Secure$/);
    expect(blankSessionCookie(false)).toContain("Max-Age=0");
  });
  it("is read from a Cookie header among others, and garbage reads as absent", () => {
    expect(readCookie("a=1; shellroom_session=abc; b=2", "shellroom_session")).toBe("abc");
    expect(readCookie("shellroom_session_x=abc", "shellroom_session")).toBeUndefined();
    expect(readCookie("shellroom_session=%E0%A4%A", "shellroom_session")).toBeUndefined();
    expect(readCookie(undefined, "shellroom_session")).toBeUndefined();
  });
});

describe("the Origin check (CSRF)", () => {
  it("accepts the site's own origin and refuses others", () => {
    expect(originAllowed({ origin: "http://localhost:3000", host: "localhost:3000" }, undefined)).toBe(true);
    expect(originAllowed({ origin: "http://evil.example", host: "localhost:3000" }, undefined)).toBe(false);
    expect(originAllowed({ origin: "https://class.example.edu" }, "https://class.example.edu/")).toBe(true);
    expect(originAllowed({ origin: "http://class.example.edu" }, "https://class.example.edu")).toBe(false);
    expect(originAllowed({ origin: "null", host: "localhost:3000" }, undefined)).toBe(false);
  });
  it("refuses a browser's cross-site request that hides its Origin", () => {
    expect(originAllowed({ "sec-fetch-site": "cross-site", host: "localhost" }, undefined)).toBe(false);
    expect(originAllowed({ host: "localhost" }, undefined)).toBe(true); // curl and other non-browser clients
  });
});

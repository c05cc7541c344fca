/**
 * The UI decides on codes, never on the words of an error: words change (and get translated),
 * codes are the contract. This scans the browser's code for prose matching, and pins the one
 * place that used to do it (the network check of form errors) to types instead.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formErrorText } from "../../app/components/errors";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|tsx)$/.test(entry.name) ? [full] : [];
  });
}

/** Matching an error's or a message's words: a regex tested on it, or a substring looked for in it. */
const PROSE_MATCHING = [
  /\/[^/\n]+\/[a-z]*\.test\([^)\n]*(message|error|reason)/i,
  /\b(message|error|reason)\w*(\?\.|\.)\w*(\?\.|\.)?(includes|startsWith|endsWith|match|search)\(/,
  /\b(message|error|reason)(\?\.|\.)(includes|startsWith|endsWith|match|search)\(/,
];

describe("the UI decides on codes, not on words", () => {
  it("no code in app/ matches an error's text", () => {
    const offenders = sources("app").flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, index) => ({ file, line: index + 1, text: line.trim() }))
        .filter(({ text }) => PROSE_MATCHING.some((pattern) => pattern.test(text))),
    );
    expect(offenders).toEqual([]);
  });

  it("the scan finds prose matching where there is some", () => {
    for (const line of [
      '{/not running/i.test(status.message) ? "Start again" : "Try again"}',
      'error.message.includes("sign in")',
      "if (reply.error.startsWith('busy')) retry();",
    ]) {
      expect(PROSE_MATCHING.some((pattern) => pattern.test(line))).toBe(true);
    }
  });

  it("a form tells a network failure by its type, whatever the browser's words", () => {
    for (const words of ["Failed to fetch", "NetworkError when attempting to fetch resource.", "Load failed", "anything at all"]) {
      expect(formErrorText({ message: words, cause: new TypeError(words) })).toMatch(/could not be reached/);
    }
    // The server's own refusal keeps its words, even when they mention a network.
    expect(formErrorText({ message: "The network is full", data: { code: "CONFLICT" } })).toBe("The network is full");
    expect(formErrorText({ message: "Oops", data: { code: "INTERNAL_SERVER_ERROR" } })).toMatch(/went wrong on our side/);
  });
});

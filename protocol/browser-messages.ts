/**
 * The contract between a browser and the server's /terminal namespace. The browser is
 * untrusted: every payload is parsed, and every environment id is checked against the
 * signed-in user before anything reaches a worker.
 */
import { z } from "zod";
import { EntityId, TerminalId, TerminalSize } from "./ids";

export const TERMINAL_NAMESPACE = "/terminal";

export const BrowserToServer = {
  attach: "terminal:attach",
  input: "terminal:input",
  resize: "terminal:resize",
} as const;

export const ServerToBrowser = {
  output: "terminal:output",
  exit: "terminal:exit",
  error: "terminal:error",
  notice: "environment:notice",
} as const;

/** Something the student should know about their environment (lifetime, idle stop, instructor). */
export type EnvironmentNotice = { environmentId: string; kind: "warning" | "stopped" | "info"; message: string };

export const AttachRequest = z.object({
  environmentId: EntityId,
  terminalId: TerminalId.default("main"),
  ...TerminalSize.shape,
});
export type AttachRequest = z.input<typeof AttachRequest>;

export const BrowserInput = z.object({
  environmentId: EntityId,
  terminalId: TerminalId.default("main"),
  data: z.string().min(1).max(64 * 1024),
});
export type BrowserInput = z.input<typeof BrowserInput>;

export const BrowserResize = z.object({
  environmentId: EntityId,
  terminalId: TerminalId.default("main"),
  ...TerminalSize.shape,
});

/** Attach's acknowledgement: the screen as it is now (so a reload repaints), or an error. */
/** `mode`: "owner" types; "watch" (course staff) only sees. */
export type AttachReply = { ok: true; screen: string; offset: number; mode: "owner" | "watch" } | { ok: false; error: string };

/** Output pushed to browsers: raw bytes, written to xterm as they are. */
export type BrowserOutput = { environmentId: string; terminalId: string; data: Uint8Array; offset: number };

/** Sent when a message could not be accepted (no ack was asked for). */
export type BrowserError = { event: string; error: string };

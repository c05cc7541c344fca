import pino, { type DestinationStream } from "pino";
import { z } from "zod";

/** LOG_LEVEL, read below when the logger is made; the server's and the worker's boot schemas validate it. */
export const LogLevel = z
  .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
  .default("info")
  .describe("the least severe log level written (pino: fatal, error, warn, info, debug, trace, silent)");

/** Secrets never reach a log line, wherever they sit in the logged object. */
const REDACTED_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "currentPassword",
  "*.currentPassword",
  "passwordHash",
  "*.passwordHash",
  "cookie",
  "*.cookie",
  "headers.cookie",
  "*.headers.cookie",
  "auth",
  "*.auth",
];

/** One structured logger; children carry context such as workerId or environmentId. */
export function createLogger(destination?: DestinationStream) {
  const options = {
    level: process.env.LOG_LEVEL ?? "info",
    base: undefined,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}

export const rootLogger = createLogger();
export type Logger = pino.Logger;

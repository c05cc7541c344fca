import pino from "pino";

/** One structured logger; children carry context such as workerId or environmentId. */
export const rootLogger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: undefined,
  redact: { paths: ["token", "*.token", "password", "*.password"], censor: "[redacted]" },
});
export type Logger = pino.Logger;

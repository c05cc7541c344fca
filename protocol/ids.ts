import { z } from "zod";

/** Database ids are cuid-like strings; bounded so a client cannot send megabytes as an id. */
export const EntityId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "must be an id");

/** A terminal inside an environment (several tabs per environment later). */
export const TerminalId = z.string().min(1).max(32).regex(/^[a-z0-9-]+$/, "must be a terminal id");

export const TerminalSize = z.object({
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(500),
});
export type TerminalSize = z.infer<typeof TerminalSize>;

/**
 * `--print-config` (alias `--help`) for the server and the worker: every environment variable their
 * zod schemas read, with its current value (secrets masked), its default, whether that value passes,
 * and the schema's own `.describe()` text, so the help can never drift from what boot validates.
 */
import type { z } from "zod";

/** A variable whose whole value is a credential. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD/;

export const PRINT_CONFIG_FLAGS = ["--print-config", "--help"] as const;

export function wantsConfigHelp(argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.some((arg) => (PRINT_CONFIG_FLAGS as readonly string[]).includes(arg));
}

/** Hides a secret variable's value and the password inside a URL's credentials. */
export function maskValue(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return value === "" ? "" : "********";
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, "$1:********@").replace(/("clientSecret"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"********"'); // inside SHELLROOM_OIDC_PROVIDERS
}

interface SchemaDef {
  type: string;
  defaultValue?: unknown;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}

/** The default a variable falls back to, found through optional, preprocess, pipe and transform wrappers. */
export function defaultOf(schema: z.ZodType, depth = 0): unknown {
  const def = schema.def as SchemaDef;
  if (def.type === "default") return def.defaultValue;
  if (depth > 16) return undefined;
  for (const inner of [def.innerType, def.in, def.out]) {
    const found = inner ? defaultOf(inner, depth + 1) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface ConfigEntry {
  name: string;
  value: string | undefined;
  defaultValue: unknown;
  required: boolean;
  description: string | undefined;
  problem: string | undefined;
}

/** One entry per variable of `schema`, read from `env` (each checked on its own, so every problem shows). */
export function configEntries(schema: z.ZodObject, env: Record<string, string | undefined>): ConfigEntry[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, variable]) => {
    const raw = env[name];
    const checked = variable.safeParse(raw);
    return {
      name,
      value: raw === undefined ? undefined : maskValue(name, raw),
      defaultValue: defaultOf(variable),
      required: !variable.safeParse(undefined).success,
      description: variable.description,
      problem: checked.success ? undefined : raw === undefined ? "required, and not set" : checked.error.issues.map((issue) => issue.message).join("; "),
    };
  });
}

const show = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : String(value));

/** The text `--print-config` prints: a title, then each variable in two lines. */
export function formatConfig(title: string, schemas: readonly z.ZodObject[], env: Record<string, string | undefined>): string {
  const lines = [`${title}`, "Environment variables (current value, default, description):", ""];
  for (const entry of schemas.flatMap((schema) => configEntries(schema, env))) {
    const current = entry.value === undefined ? "(unset)" : show(entry.value);
    const fallback = entry.required ? "required" : entry.defaultValue === undefined ? "no default" : `default ${show(entry.defaultValue)}`;
    const verdict = entry.problem ? `  INVALID: ${entry.problem}` : "";
    lines.push(`  ${entry.name}=${current}  [${fallback}]${verdict}`);
    lines.push(`      ${entry.description ?? "(no description)"}`);
  }
  return `${lines.join("\n")}\n`;
}

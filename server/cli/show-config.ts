/**
 * `shellroom config`: the server's effective configuration, each variable checked by its own
 * schema (so one mistake does not hide the rest), with secrets masked.
 */
import { ServerConfig } from "../config";

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY$/;

/** URLs keep their host but lose any password; secrets show only that they are set. */
export function maskedValue(name: string, value: unknown): string {
  if (value === undefined) return "(unset)";
  const text = Array.isArray(value)
    ? value.join(",")
    : typeof value === "object" && value !== null
      ? JSON.stringify(value)
      : String(value as string | number | boolean);
  if (SECRET_NAME.test(name)) return text ? "******** (set)" : "(empty)";
  if (/^[a-z]+:\/\//.test(text)) {
    try {
      const url = new URL(text);
      if (url.password) url.password = "********";
      return url.toString();
    } catch {
      return text;
    }
  }
  return text;
}

export function configLines(env: Record<string, string | undefined> = process.env): { lines: string[]; problems: number } {
  const lines: string[] = [];
  let problems = 0;
  for (const [name, schema] of Object.entries(ServerConfig.shape)) {
    const parsed = schema.safeParse(env[name]);
    const source = env[name] === undefined ? "default" : "env";
    if (parsed.success) lines.push(`${name}=${maskedValue(name, parsed.data)}  (${source})`);
    else {
      problems++;
      lines.push(`${name}: INVALID (${parsed.error.issues[0]?.message ?? "not accepted"})`);
    }
  }
  return { lines, problems };
}

/**
 * The command line's remote half: calls the REST surface (/api/v1) of a running platform
 * with an API token, from SHELLROOM_URL and SHELLROOM_TOKEN (or --url and --token).
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { CommandError } from "./admin";

export interface ApiTarget {
  url: string;
  token: string;
}

export function apiTarget(flags: { url?: string; token?: string }, env = process.env): ApiTarget {
  const url = flags.url ?? env.SHELLROOM_URL;
  const token = flags.token ?? env.SHELLROOM_TOKEN;
  if (!url) throw new CommandError("Set SHELLROOM_URL (or --url) to the platform's address, e.g. https://shellroom.example.edu.");
  if (!token) throw new CommandError("Set SHELLROOM_TOKEN (or --token) to an API token (account page, API tokens).");
  return { url: url.replace(/\/+$/, ""), token };
}

/** One REST call; a refusal becomes a CommandError with the server's message. */
export async function callApi<T>(target: ApiTarget, method: "GET" | "POST", route: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CommandError(`Could not reach ${target.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  if (!response.ok) {
    const message = (parsed as { message?: string } | null)?.message ?? text;
    throw new CommandError(`${method} ${route} was refused (${response.status}): ${message}`);
  }
  return parsed as T;
}

/** Files a lab push leaves out: version control and editor droppings. */
const SKIPPED = new Set([".git", ".github", "node_modules", ".DS_Store"]);

/** A lab folder as `{ relative path: text }`, as the lab import takes it. */
export async function readLabFolder(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (relative: string) => {
    for (const entry of await readdir(path.join(folder, relative), { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(name);
      else if (entry.isFile()) files[name] = await readFile(path.join(folder, name), "utf8");
    }
  };
  try {
    await walk("");
  } catch (error) {
    throw new CommandError(`Could not read the lab folder ${folder}: ${(error as Error).message}`);
  }
  if (!files["lab.yaml"]) throw new CommandError(`${folder} has no lab.yaml at its top: is it a lab folder?`);
  return files;
}

/**
 * Only server/environments/lifecycle.ts writes an environment's state: every other file moves
 * it through that module's transitions. This scans every source file of the repository
 * (server, worker, scripts, tests, benches: anything that could hold a Prisma client) for a
 * write of `Environment.state` elsewhere, and fails naming the file and line.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const THE_MODULE = "server/environments/lifecycle.ts";
const THIS_FILE = path.relative(ROOT, import.meta.filename);
const SKIPPED_DIRECTORIES = new Set(["node_modules", "generated", ".next", ".data", ".git", "test-results", "playwright-report"]);
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

/** The text from an opening bracket to its match (strings and comments are rare enough here to ignore). */
function balanced(text: string, open: number): string {
  const pairs: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return text.slice(open, i + 1);
    }
  }
  return text.slice(open);
}

/** The values of `key:` directly in an object literal's text (not nested deeper). */
function topLevelValues(objectText: string, key: string): string[] {
  const values: string[] = [];
  let depth = 0;
  for (let i = 0; i < objectText.length; i++) {
    const c = objectText[i]!;
    if ("({[".includes(c)) depth++;
    else if (")}]".includes(c)) depth--;
    else if (depth === 1 && objectText.startsWith(key, i) && !/[\w$]/.test(objectText[i - 1] ?? "")) {
      const rest = objectText.slice(i + key.length);
      const colon = /^\s*:\s*/.exec(rest);
      if (!colon) continue;
      const start = i + key.length + colon[0].length;
      values.push(
        "{[".includes(objectText[start]!)
          ? balanced(objectText, start)
          : objectText
              .slice(start)
              .split(/[,}\n]/)[0]!
              .trim(),
      );
    }
  }
  return values;
}

const WRITES_STATE = /(^|[{,\s])(state|"state")\s*[:,}]|\.\.\./;

/** Places in one file's text that write an environment's state (or that cannot be shown not to). */
export function stateWrites(text: string): Array<{ line: number; what: string }> {
  const found: Array<{ line: number; what: string }> = [];
  const lineOf = (index: number) => text.slice(0, index).split("\n").length;
  // Client calls: db.environment.update(...), tx.environment.updateMany(...), and nested writes
  // from another model (environments: { updateMany: ... }).
  const call = /\.environment\s*\.\s*(update|updateMany|create|createMany|upsert|updateManyAndReturn|createManyAndReturn)\s*\(/g;
  for (let match = call.exec(text); match; match = call.exec(text)) {
    const args = balanced(text, match.index + match[0].length - 1)
      .slice(1, -1)
      .trim();
    if (!args.startsWith("{")) {
      found.push({ line: lineOf(match.index), what: `${match[1]} with arguments that are not an object literal` });
      continue;
    }
    const payloads = ["data", "create", "update"].flatMap((key) => topLevelValues(args, key));
    for (const payload of payloads) {
      if (!payload.startsWith("{") && !payload.startsWith("[")) {
        found.push({ line: lineOf(match.index), what: `${match[1]} with data that is not an object literal (${payload})` });
      } else if (WRITES_STATE.test(payload.replace(/^[[{]/, " "))) {
        found.push({ line: lineOf(match.index), what: `${match[1]} writes state` });
      }
    }
  }
  const nested = /\benvironments?\s*:\s*\{\s*(update|updateMany|create|createMany|upsert|set|connectOrCreate)\b/g;
  for (let match = nested.exec(text); match; match = nested.exec(text)) {
    if (/\bstate\s*:/.test(balanced(text, text.indexOf("{", match.index)))) found.push({ line: lineOf(match.index), what: `nested ${match[1]} writes state` });
  }
  // Raw SQL.
  const raw = /(UPDATE|INSERT\s+INTO)\s+"?Environment"?\b([\s\S]{0,400})/gi;
  for (let match = raw.exec(text); match; match = raw.exec(text)) {
    if (/"?state"?/i.test(match[2]!.split(/\bWHERE\b/i)[0]!)) found.push({ line: lineOf(match.index), what: "raw SQL writes state" });
  }
  return found;
}

async function sourceFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) files.push(...(await sourceFiles(path.join(directory, entry.name))));
    } else if (SOURCE.test(entry.name)) {
      files.push(path.join(directory, entry.name));
    }
  }
  return files;
}

describe("the scan finds writes of an environment's state", () => {
  it.each([
    ['await db.environment.update({ where: { id }, data: { state: "STOPPED", stoppedAt: new Date() } });', "update"],
    ['await this.db.environment.updateMany({\n  where: { workerId: id },\n  data: { error: "x", state: "INTERRUPTED" },\n});', "updateMany"],
    ['db.environment.create({ data: { userId, labId, templateId, state: "RUNNING" } })', "create"],
    ["db.environment.createMany({ data: [{ userId, labId, templateId, state }] })", "createMany with a shorthand"],
    ['db.environment.upsert({ where: { id }, create: { userId }, update: { state: "RUNNING" } })', "upsert"],
    ["db.environment.update({ where: { id }, data: { ...fields } })", "a spread it cannot see into"],
    ["db.environment.update({ where: { id }, data: fields })", "data in a variable"],
    ["db.environment.updateMany(args)", "arguments in a variable"],
    ['tx.lab.update({ where: { id }, data: { environments: { updateMany: { where: {}, data: { state: "STOPPED" } } } } })', "a nested write"],
    ['await db.$executeRaw`UPDATE "Environment" SET "state" = \'STOPPED\' WHERE "id" = ${id}`', "raw SQL"],
  ])("%s (%s)", (source) => {
    expect(stateWrites(source)).not.toEqual([]);
  });

  it.each([
    'db.environment.findMany({ where: { state: "RUNNING" } })',
    'db.environment.updateMany({ where: { id, state: "RUNNING" }, data: { lastActivityAt: new Date() } })',
    "db.environment.update({ where: { id: environmentId }, data: { expiresAt, warnedAt: null } })",
    "db.environment.createMany({ data: [{ userId, labId, templateId: lab.templateId }], skipDuplicates: true })",
    'db.$queryRaw`SELECT * FROM "Environment" WHERE "state" = \'RUNNING\'`',
  ])("leaves alone %s", (source) => {
    expect(stateWrites(source)).toEqual([]);
  });
});

it("no file but the lifecycle module writes an environment's state", async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(ROOT)) {
    const relative = path.relative(ROOT, file);
    if (relative === THE_MODULE || relative === THIS_FILE) continue;
    for (const write of stateWrites(await readFile(file, "utf8"))) offenders.push(`${relative}:${write.line}: ${write.what}`);
  }
  expect(offenders, "move the environment through server/environments/lifecycle.ts instead").toEqual([]);
});

it("the lifecycle module is where the writes are (the scan would see them)", async () => {
  const text = await readFile(path.join(ROOT, THE_MODULE), "utf8");
  expect(text).toContain("environment.updateMany(guardedUpdate(");
  expect(stateWrites(text)).not.toEqual([]);
});

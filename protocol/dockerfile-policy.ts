/**
 * What an instructor's Dockerfile may ask of the builder. The Docker daemon itself fetches
 * `ADD <url>`, git sources, `FROM`/`COPY --from` images it does not have (a registry pull)
 * and `# syntax=` frontends, on the host's network, whatever network the RUN steps get. So
 * every instruction that could make the daemon fetch is refused here, naming its line,
 * before anything is built. The server checks on save and the worker again before building
 * (it never trusts the server blindly); the worker then also checks that every image named
 * is already on its host.
 *
 * The parser follows Docker's Dockerfile reference: parser directives at the very top
 * (`escape`, `syntax`), comments, line continuations with the escape character (comment and
 * empty lines inside one are skipped), instructions in any case, JSON or shell form, flags.
 */

export class DockerfileRefusedError extends Error {
  override name = "DockerfileRefusedError";
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`Line ${line}: ${reason}`);
  }
}

export interface DockerfileNeeds {
  /** Images that must already be on the building host (FROM and COPY --from / --mount from=, not stages). */
  images: string[];
}

interface Instruction {
  line: number;
  keyword: string;
  rest: string;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?/;
const NO_FETCH = "the builder may not fetch anything from the network";

/** Checks a Dockerfile against the build policy; throws DockerfileRefusedError naming the first offending line. */
export function checkDockerfile(source: string): DockerfileNeeds {
  const text = source.replace(/^\uFEFF/, ""); // Docker ignores a byte-order mark
  const { escape, firstLine } = readDirectives(text);
  const instructions = readInstructions(text, escape, firstLine);
  if (!instructions.some((instruction) => instruction.keyword === "from")) {
    throw new DockerfileRefusedError(instructions[0]?.line ?? 1, "a Dockerfile starts FROM an image (e.g. FROM shellroom/default:1).");
  }

  const globalArgs = new Map<string, string | null>();
  const stages: string[] = []; // lower-cased stage names by index ("" when unnamed)
  const images: string[] = [];
  const needImage = (name: string) => {
    const image = withTag(name);
    if (!images.includes(image)) images.push(image);
  };
  /** A --from / from= reference: an earlier stage (by name or index) or an image. */
  const checkSource = (line: number, what: string, raw: string) => {
    const value = unquote(raw);
    if (!value) throw new DockerfileRefusedError(line, `${what} names nothing.`);
    if (value.includes("$")) throw new DockerfileRefusedError(line, `${what}=${value} uses a variable; name an earlier stage or a local image literally.`);
    if (/^\d+$/.test(value)) {
      if (Number(value) >= stages.length - 1) throw new DockerfileRefusedError(line, `${what}=${value} is not an earlier stage of this Dockerfile.`);
      return;
    }
    if (stages.slice(0, -1).includes(value.toLowerCase())) return;
    if (stages.at(-1) === value.toLowerCase()) throw new DockerfileRefusedError(line, `${what}=${value} is the stage being built; name an earlier stage.`);
    checkImageName(line, value);
    needImage(value);
  };

  for (const { line, keyword, rest } of instructions) {
    switch (keyword) {
      case "arg": {
        if (stages.length > 0) break; // stage-scoped: never used by FROM
        for (const word of splitWords(rest)) {
          const [name, ...value] = word.split("=");
          const resolved = value.length > 0 ? unquote(value.join("=")) : null;
          globalArgs.set(name!, resolved !== null && !resolved.includes("$") ? resolved : null);
        }
        break;
      }
      case "from": {
        const { flags, args } = splitFlags(rest);
        if (flags.length > 0) throw new DockerfileRefusedError(line, `FROM ${flags[0]!.raw} is not supported here; write FROM <image> [AS <name>].`);
        const [rawImage, as, name, ...extra] = args;
        if (!rawImage || extra.length > 0 || (as !== undefined && (as.toLowerCase() !== "as" || !name))) {
          throw new DockerfileRefusedError(line, "write FROM <image> [AS <name>].");
        }
        const image = expandArgs(line, rawImage, globalArgs);
        const lower = image.toLowerCase();
        if (lower !== "scratch" && !stages.includes(lower)) {
          checkImageName(line, image);
          needImage(image);
        }
        stages.push(name?.toLowerCase() ?? "");
        break;
      }
      case "add":
      case "copy": {
        const upper = keyword.toUpperCase();
        const { flags, args } = splitFlags(rest);
        for (const flag of flags) {
          if (flag.name === "from" && keyword === "copy") checkSource(line, "COPY --from", flag.value ?? "");
          else if (flag.name === "checksum" || flag.name === "keep-git-dir") {
            throw new DockerfileRefusedError(line, `${upper} --${flag.name} is for downloads, and ${NO_FETCH}.`);
          } else if (!["chown", "chmod", "link", "exclude", "parents"].includes(flag.name)) {
            throw new DockerfileRefusedError(line, `${upper} ${flag.raw} is not supported here.`);
          }
        }
        if (HEREDOC.test(rest)) throw new DockerfileRefusedError(line, `${upper} with a heredoc is not supported here; write the file with RUN printf.`);
        const words = jsonArray(args.join(" ")) ?? args;
        for (const source of words.slice(0, -1)) {
          const plain = source.replace(/["'\\`]/g, "");
          if (source.includes("$"))
            throw new DockerfileRefusedError(line, `${upper} ${source}: a variable in a source is not supported; name the source literally.`);
          if (/^[a-z][a-z0-9+.-]*:\/\//i.test(plain) || /^[\w.-]+@[\w.-]+:/.test(plain) || /\.git(#.*)?$/i.test(plain)) {
            throw new DockerfileRefusedError(
              line,
              `${upper} ${source} would be fetched by the Docker daemon, and ${NO_FETCH}. Install what the image needs with RUN from the allowed package mirrors.`,
            );
          }
        }
        break;
      }
      case "run": {
        const { flags } = splitFlags(rest);
        for (const flag of flags) {
          if (flag.name === "network" && unquote(flag.value ?? "") === "none") continue;
          if (flag.name !== "mount") throw new DockerfileRefusedError(line, `RUN ${flag.raw} is not supported here.`);
          const options = new Map(
            (flag.value ?? "").split(",").map((pair) => {
              const [key, ...value] = pair.split("=");
              return [key!.trim().toLowerCase(), unquote(value.join("="))] as const;
            }),
          );
          const type = options.get("type") ?? "bind";
          if (!["bind", "cache", "tmpfs"].includes(type)) throw new DockerfileRefusedError(line, `RUN --mount=type=${type} is not supported here.`);
          if (options.has("from")) checkSource(line, "RUN --mount from", options.get("from")!);
        }
        if (HEREDOC.test(rest)) throw new DockerfileRefusedError(line, "RUN with a heredoc is not supported here; use a line continuation (\\) or printf.");
        break;
      }
      case "onbuild":
        throw new DockerfileRefusedError(
          line,
          "ONBUILD runs instructions in later builds, out of reach of this check; write them in the Dockerfile that needs them.",
        );
      default:
        if (stages.length === 0 && keyword !== "arg") {
          throw new DockerfileRefusedError(line, `${keyword.toUpperCase()} before the first FROM; a Dockerfile starts FROM an image.`);
        }
    }
  }
  return { images };
}

/** Parser directives: only at the very top, before any comment, blank line or instruction. */
function readDirectives(text: string): { escape: string; firstLine: number } {
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  const seen = new Set<string>();
  let index = 0;
  for (; index < lines.length; index++) {
    const match = DIRECTIVE.exec(lines[index]!.trim());
    if (!match || !lines[index]!.trim().startsWith("#")) break;
    const name = match[1]!.toLowerCase();
    if (name !== "escape" && name !== "syntax" && name !== "check") break; // an ordinary comment ends the directives
    if (seen.has(name)) throw new DockerfileRefusedError(index + 1, `the ${name} directive may only be used once.`);
    seen.add(name);
    if (name === "syntax") {
      throw new DockerfileRefusedError(index + 1, `# syntax=${match[2]} makes the builder fetch a frontend image, and ${NO_FETCH}; remove the line.`);
    }
    if (name === "escape") {
      if (match[2] !== "\\" && match[2] !== "`") throw new DockerfileRefusedError(index + 1, "the escape directive takes \\ or `.");
      escape = match[2];
    }
  }
  return { escape, firstLine: index };
}

/** Logical instructions: continuations joined (comment and blank lines inside them skipped). */
function readInstructions(text: string, escape: string, firstLine: number): Instruction[] {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  const continues = (line: string) => line.trimEnd().endsWith(escape);
  const strip = (line: string) => line.trimEnd().slice(0, -escape.length);
  for (let index = firstLine; index < lines.length; index++) {
    const first = lines[index]!.trimStart();
    if (first === "" || first.startsWith("#")) continue;
    const start = index + 1;
    let logical = first;
    while (continues(logical) && index + 1 < lines.length) {
      logical = strip(logical);
      index++;
      const next = lines[index]!;
      if (next.trim() === "" || next.trimStart().startsWith("#")) {
        logical += escape; // still continuing: skipped lines do not end the instruction
        continue;
      }
      logical += next;
    }
    if (continues(logical)) logical = strip(logical);
    const match = /^(\S+)\s*([\s\S]*)$/.exec(logical);
    if (match) instructions.push({ line: start, keyword: match[1]!.toLowerCase(), rest: match[2]!.trim() });
  }
  return instructions;
}

interface Flag {
  name: string;
  value: string | undefined;
  raw: string;
}

/** Leading `--name[=value]` flags, then the remaining whitespace-separated arguments. */
function splitFlags(rest: string): { flags: Flag[]; args: string[] } {
  const words = splitWords(rest);
  const flags: Flag[] = [];
  while (words[0]?.startsWith("--")) {
    const raw = words.shift()!;
    const [name, ...value] = raw.slice(2).split("=");
    flags.push({ name: name!.toLowerCase(), value: value.length > 0 ? value.join("=") : undefined, raw });
  }
  return { flags, args: words };
}

function splitWords(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

function jsonArray(text: string): string[] | null {
  if (!text.trimStart().startsWith("[")) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : null;
  } catch {
    return null; // Docker then reads it as shell form
  }
}

function unquote(value: string): string {
  return value.trim().replace(/^(["'])(.*)\1$/, "$2");
}

/** `$NAME` / `${NAME}` from global ARG defaults; anything else with a `$` is refused. */
function expandArgs(line: number, image: string, args: Map<string, string | null>): string {
  const expanded = image.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const value = args.get((braced ?? bare)!);
      if (value === undefined || value === null || value === "") {
        throw new DockerfileRefusedError(
          line,
          `FROM ${image}: ${whole} has no fixed value (give the ARG a literal default before the first FROM, or name the image).`,
        );
      }
      return value;
    },
  );
  if (expanded.includes("$")) throw new DockerfileRefusedError(line, `FROM ${image}: this variable form cannot be resolved safely; name the image.`);
  return expanded;
}

function checkImageName(line: number, image: string) {
  if (!/^[a-z0-9][a-z0-9._/:@-]*$/i.test(image) || image.length > 256) {
    throw new DockerfileRefusedError(line, `"${image}" is not an image name.`);
  }
}

/** `python` means `python:latest`; a registry port (`host:5000/x`) is not a tag. */
export function withTag(image: string): string {
  const last = image.slice(image.lastIndexOf("/") + 1);
  return last.includes(":") || image.includes("@") ? image : `${image}:latest`;
}

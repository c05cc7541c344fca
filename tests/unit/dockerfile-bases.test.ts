/**
 * The build policy's parser: every way a Dockerfile can make the Docker daemon fetch
 * something (a URL, a git repository, a registry image, a frontend) is refused, naming its
 * line, however it is spelled; ordinary Dockerfiles pass and say which local images they need.
 */
import { describe, expect, it } from "vitest";
import { checkDockerfile } from "../../protocol/dockerfile-policy";

const refused = (text: string) => {
  try {
    checkDockerfile(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`accepted:\n${text}`);
};

describe("accepted Dockerfiles", () => {
  it("finds the base images a Dockerfile needs, skipping its own stages", () => {
    expect(
      checkDockerfile("FROM shellroom/default:1 AS build\nRUN make\nFROM build\nFROM scratch\nfrom python AS py\nFROM build\nCOPY --from=py / /").images,
    ).toEqual(["shellroom/default:1", "python:latest"]);
  });

  it("accepts copies from earlier stages by name or index, and from a local image", () => {
    const text =
      "FROM shellroom/default:1 AS Tools\nRUN echo hi > /x\nFROM shellroom/default:1\nCOPY --from=tools /x /x\nCOPY --from=0 /x /y\nCOPY --from=shellroom/c-abc-tools:k1 /opt /opt\nRUN --mount=type=bind,from=tools,target=/t cat /t/x";
    expect(checkDockerfile(text).images).toEqual(["shellroom/default:1", "shellroom/c-abc-tools:k1"]);
  });

  it("resolves FROM variables from literal global ARG defaults", () => {
    expect(checkDockerfile('ARG BASE=shellroom/default:1\nARG TAG="2"\nFROM $BASE\nFROM shellroom/other:${TAG}').images).toEqual([
      "shellroom/default:1",
      "shellroom/other:2",
    ]);
  });

  it("reads comments, continuations, lower-case keywords and local ADD/COPY sources", () => {
    const text =
      '# a comment\n\nfrom shellroom/default:1\nrun apt-get install -y \\\n  # inside a continuation\n\n  make\nadd Dockerfile /d\ncopy ["Dockerfile", "/e"]\nRUN echo $((1<<3))\n';
    expect(checkDockerfile(text).images).toEqual(["shellroom/default:1"]);
  });

  it("ignores a byte-order mark, as Docker does, and still reads the directives after it", () => {
    expect(checkDockerfile("\uFEFFFROM shellroom/default:1").images).toEqual(["shellroom/default:1"]);
    expect(() => checkDockerfile("\uFEFF# syntax=evil/frontend\nFROM shellroom/default:1")).toThrow(/^Line 1: # syntax=evil\/frontend/);
  });

  it("keeps a registry port apart from a tag", () => {
    expect(checkDockerfile("FROM localhost:5000/tools").images).toEqual(["localhost:5000/tools:latest"]);
  });
});

describe("refused Dockerfiles name the line", () => {
  it.each([
    [
      "ADD from a URL",
      "FROM shellroom/default:1\nADD http://127.0.0.1:3001/metrics /m",
      /^Line 2: ADD http:\/\/127\.0\.0\.1:3001\/metrics would be fetched by the Docker daemon/,
    ],
    [
      "ADD from a URL, lower case, quoted",
      'FROM shellroom/default:1\nRUN true\nadd "https://example.com/x" /x',
      /^Line 3: ADD "https:\/\/example.com\/x" would be fetched/,
    ],
    ["ADD in JSON form", 'FROM shellroom/default:1\nADD ["http://169.254.169.254/latest/meta-data/", "/m"]', /^Line 2: ADD http:\/\/169\.254/],
    ["ADD with --checksum", "FROM shellroom/default:1\nADD --checksum=sha256:abc https://x/y /y", /^Line 2: ADD --checksum is for downloads/],
    ["ADD from git over ssh", "FROM shellroom/default:1\nADD git@github.com:moby/buildkit.git /b", /^Line 2: ADD git@github\.com/],
    [
      "ADD from a .git URL",
      "FROM shellroom/default:1\nADD github.com/moby/buildkit.git#v0.10 /b",
      /^Line 2: ADD github\.com\/moby\/buildkit\.git#v0\.10 would be fetched/,
    ],
    ["ADD --keep-git-dir", "FROM shellroom/default:1\nADD --keep-git-dir=true x /b", /^Line 2: ADD --keep-git-dir is for downloads/],
    ["ADD with escaped letters in the scheme", "FROM shellroom/default:1\nADD h\\ttp://x/y /y", /^Line 2: ADD h\\ttp/],
    ["ADD with a variable source", "FROM shellroom/default:1\nARG U=http://x/y\nADD $U /y", /^Line 3: ADD \$U: a variable/],
    ["an instruction split across a continuation", "FROM shellroom/default:1\nAD\\\nD http://x/y /y", /^Line 2: ADD http:\/\/x\/y/],
    ["a URL on a continuation line after a comment", "FROM shellroom/default:1\nADD \\\n# hidden\n  http://x/y /y", /^Line 2: ADD http/],
    ["a continuation under the escape directive", "# escape=`\nFROM shellroom/default:1\nADD `\n  http://x/y c:\\y", /^Line 3: ADD http/],
    ["COPY --from its own stage index", "FROM shellroom/default:1\nCOPY --from=0 /x /x", /^Line 2: COPY --from=0 is not an earlier stage/],
    ["COPY --from a variable", "FROM shellroom/default:1\nARG S=x\nCOPY --from=$S /x /x", /^Line 3: COPY --from=\$S uses a variable/],
    [
      "RUN --mount of a remote image",
      'FROM shellroom/default:1\nRUN --mount=type=bind,from="$IMG",target=/t true',
      /^Line 2: RUN --mount from=\$IMG uses a variable/,
    ],
    [
      "RUN --mount of a secret",
      "FROM shellroom/default:1\nRUN --mount=type=secret,id=x cat /run/secrets/x",
      /^Line 2: RUN --mount=type=secret is not supported/,
    ],
    ["RUN --mount of the ssh agent", "FROM shellroom/default:1\nRUN --mount=type=ssh true", /^Line 2: RUN --mount=type=ssh/],
    ["RUN --network=host", "FROM shellroom/default:1\nRUN --network=host curl http://127.0.0.1:3001/metrics", /^Line 2: RUN --network=host is not supported/],
    ["RUN --security=insecure", "FROM shellroom/default:1\nRUN --security=insecure true", /^Line 2: RUN --security=insecure/],
    ["a RUN heredoc", "FROM shellroom/default:1\nRUN <<EOF\nADD http://x /y\nEOF", /^Line 2: RUN with a heredoc/],
    ["a COPY heredoc", "FROM shellroom/default:1\nCOPY <<-'EOT' /x\nhi\nEOT", /^Line 2: COPY with a heredoc/],
    [
      "a syntax directive",
      "# syntax=docker/dockerfile:1\nFROM shellroom/default:1",
      /^Line 1: # syntax=docker\/dockerfile:1 makes the builder fetch a frontend image/,
    ],
    ["a syntax directive in odd case and spacing", "#  SynTax = evil/frontend\nFROM shellroom/default:1", /^Line 1: # syntax=evil\/frontend/],
    ["ONBUILD", "FROM shellroom/default:1\nonbuild ADD http://x /y", /^Line 2: ONBUILD runs instructions in later builds/],
    ["FROM an ARG without a default", "ARG BASE\nFROM $BASE", /^Line 2: FROM \$BASE: \$BASE has no fixed value/],
    ["FROM an ARG defined from another variable", "ARG A=x\nARG BASE=$A\nFROM ${BASE}", /^Line 3: FROM \$\{BASE\}: \$\{BASE\} has no fixed value/],
    ["FROM a variable with a default form", "FROM ${BASE:-alpine}", /^Line 1: FROM \$\{BASE:-alpine\}: this variable form cannot be resolved safely/],
    ["FROM --platform", "FROM --platform=linux/arm64 shellroom/default:1", /^Line 1: FROM --platform=linux\/arm64 is not supported/],
    ["no FROM", "RUN true", /^Line 1: a Dockerfile starts FROM an image/],
  ])("%s", (_name, text, expected) => {
    expect(refused(text)).toMatch(expected);
  });

  it("a COPY --from that is not an earlier stage must be a local image (the worker refuses it otherwise)", () => {
    expect(checkDockerfile("FROM shellroom/default:1\nCOPY --from=docker.io/library/alpine:3 /bin/sh /sh").images).toContain("docker.io/library/alpine:3");
    expect(checkDockerfile("FROM shellroom/default:1 AS a\nCOPY --from=b /x /x\nFROM shellroom/default:1 AS b").images).toContain("b:latest");
  });
});

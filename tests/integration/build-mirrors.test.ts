/**
 * Package mirrors the operator allows (SHELLROOM_BUILD_MIRRORS): RUN steps reach them through
 * the allowlisting proxy, and nothing else: not another host service, not a name that
 * resolves inside, not the host directly. A local HTTP server plays the mirror.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeBuildEgresses } from "../../runtime-worker/images/instructor-build";
import { removeBuildEgress } from "../../runtime-worker/images/build-egress";
import { startHarness, type Harness } from "../support/platform-harness";

const docker = new Docker();
let harness: Harness;
let instructor: string;
let mirror: http.Server;
let bait: http.Server;
let baitHits = 0;
let mirrorPort = 0;
let baitPort = 0;
const saved = process.env.SHELLROOM_BUILD_MIRRORS;
const builtTags: string[] = [];

async function listen(server: http.Server) {
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  mirror = http.createServer((req, res) => res.end(`package from the mirror: ${req.url}\n`));
  bait = http.createServer((_req, res) => {
    baitHits += 1;
    res.end("secret metrics\n");
  });
  mirrorPort = await listen(mirror);
  baitPort = await listen(bait);
  // Listed by address and port: the proxy reaches an internal address only when the operator names it.
  process.env.SHELLROOM_BUILD_MIRRORS = `127.0.0.1:${mirrorPort}, localhost:${baitPort}`;
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});

afterAll(async () => {
  const workerId = harness?.workerId;
  await harness?.close();
  await closeBuildEgresses();
  if (workerId) await removeBuildEgress(docker, workerId);
  for (const server of [mirror, bait]) await new Promise((resolve) => server?.close(resolve));
  if (saved === undefined) delete process.env.SHELLROOM_BUILD_MIRRORS;
  else process.env.SHELLROOM_BUILD_MIRRORS = saved;
  for (const tag of builtTags)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
});

async function build(name: string, dockerfile: string) {
  const started = await harness.trpc("authoring.buildImage", { courseId: harness.courseId, name, dockerfile }, { cookie: instructor });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const { imageId, tag } = started.body.result.data as { imageId: string; tag: string };
  builtTags.push(tag);
  let image: any;
  await expect
    .poll(
      async () => {
        image = (await harness.trpc("authoring.image", { courseId: harness.courseId, imageId }, { cookie: instructor, method: "GET" })).body.result.data;
        return image.status;
      },
      { timeout: 120_000, interval: 250 },
    )
    .not.toBe("BUILDING");
  return image;
}

it("a RUN step fetches from an allowed mirror through the proxy, and reaches nothing else", async () => {
  const image = await build(
    "With mirror",
    [
      "FROM shellroom/default:1",
      `RUN curl -fsS http://127.0.0.1:${mirrorPort}/pool/hello.deb`,
      // A tunnel (CONNECT), as pip and npm open for HTTPS.
      `RUN curl -fsS --proxytunnel http://127.0.0.1:${mirrorPort}/tunnelled`,
      `RUN echo "tunnel elsewhere: $(curl -s --proxytunnel -o /dev/null -w '%{http_connect}' http://127.0.0.1:${baitPort}/ || true)"`,
      // Another host service, a listed name that resolves to loopback, and the host directly (no proxy).
      `RUN echo "other service: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${baitPort}/metrics)"`,
      `RUN echo "listed name resolving inside: $(curl -s -o /dev/null -w '%{http_code}' http://localhost:${baitPort}/metrics)"`,
      `RUN echo "metadata: $(curl -s -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/)"`,
      `RUN echo "direct: $(curl --noproxy '*' -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:${mirrorPort}/ || true)"`,
      `RUN gateway=$(ip route | awk '/default/ {print $3}') && echo "direct to the host: $(curl --noproxy '*' -s -m 5 -o /dev/null -w '%{http_code}' http://$gateway:${baitPort}/ || true)"`,
      "",
    ].join("\n"),
  );
  expect(image.error).toBeNull();
  expect(image.status).toBe("READY");
  expect(image.log).toContain("package from the mirror: /pool/hello.deb");
  expect(image.log).toContain("package from the mirror: /tunnelled");
  expect(image.log).toContain("tunnel elsewhere: 403");
  expect(image.log).toContain("other service: 403");
  expect(image.log).toContain("listed name resolving inside: 403");
  expect(image.log).toContain("metadata: 403");
  expect(image.log).toContain("direct: 000");
  expect(image.log).toContain("direct to the host: 000");
  expect(baitHits).toBe(0);
});

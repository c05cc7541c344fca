/**
 * Webhooks cannot reach the server's own network (SSRF): an internal address is refused
 * whether it is written in the URL or a name resolves to it, and the receiver there is never
 * contacted. Real sockets on loopback.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InternalAddressError, postOutbound, publicAddress } from "../../server/webhooks/outbound-request";

let receiver: Server;
let port = 0;
let received = 0;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    received += 1;
    request.resume();
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const post = (url: string, allowInternal: boolean) => postOutbound({ url, headers: {}, body: "{}", timeoutMs: 5000, allowInternal });

it("internal addresses are told apart from public ones, in both families and the mapped form", () => {
  for (const internal of [
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "not an address",
  ])
    expect([internal, publicAddress(internal)]).toEqual([internal, false]);
  for (const external of ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
    expect([external, publicAddress(external)]).toEqual([external, true]);
});

it("a webhook to a loopback address, written or resolved, is refused and the receiver never hears of it", async () => {
  await expect(post(`http://127.0.0.1:${port}/hook`, false)).rejects.toBeInstanceOf(InternalAddressError);
  await expect(post(`http://[::1]:${port}/hook`, false)).rejects.toBeInstanceOf(InternalAddressError);
  await expect(post(`http://localhost:${port}/hook`, false)).rejects.toThrow(/internal address/);
  expect(received).toBe(0);
});

it("with internal addresses allowed (a lab network, the tests) the same receiver is reached", async () => {
  expect(await post(`http://127.0.0.1:${port}/hook`, true)).toBe(204);
  expect(received).toBe(1);
});

import { describe, expect, it } from "vitest";
import { blockAddresses } from "../support/host-network";

describe("test worker hosts' addresses (tests/support/host-network.ts)", () => {
  it("each host's /30 is inside 10.231.0.0/16: the server's side is .1 of the block, the host's .2", () => {
    expect(blockAddresses(1)).toEqual({ hostSide: "10.231.0.5", inside: "10.231.0.6" });
    expect(blockAddresses(64)).toEqual({ hostSide: "10.231.1.1", inside: "10.231.1.2" });
    expect(blockAddresses(16_383)).toEqual({ hostSide: "10.231.255.253", inside: "10.231.255.254" });
  });

  it("no block outside the range, and never block 0 (its first address is the network's)", () => {
    for (const index of [0, -1, 16_384, 1.5]) expect(() => blockAddresses(index)).toThrow(/no \/30 block/);
  });
});

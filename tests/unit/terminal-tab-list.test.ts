import { describe, expect, it } from "vitest";
import { MAX_TERMINALS_PER_ENVIRONMENT } from "../../protocol/browser-messages";
import { TerminalId } from "../../protocol/ids";
import { mergeTabOrder, newTerminalId, planEndedTabs, tabAfterRemoval, tabForKey, tabLabel } from "../../app/components/terminal-tab-list";

describe("the tab strip's order and names", () => {
  it("keeps the tabs in the order they were opened, main first, and numbers them by place", () => {
    expect(mergeTabOrder(["main"], ["main", "t-b", "t-a"])).toEqual(["main", "t-b", "t-a"]);
    // A tab this browser opened keeps its place even if the server lists it earlier.
    expect(mergeTabOrder(["main", "t-b", "t-new"], ["t-new", "main", "t-b"])).toEqual(["main", "t-b", "t-new"]);
    expect(mergeTabOrder(["t-a"], ["t-a", "main"])).toEqual(["main", "t-a"]);
    expect(["main", "t-b"].map((_, index) => tabLabel(index))).toEqual(["Terminal 1", "Terminal 2"]);
  });

  it("never shows more tabs than an environment may have", () => {
    const listed = Array.from({ length: MAX_TERMINALS_PER_ENVIRONMENT + 3 }, (_, index) => `t-${index}`);
    expect(mergeTabOrder(["main"], listed)).toHaveLength(MAX_TERMINALS_PER_ENVIRONMENT);
  });
});

describe("tabs whose shells ended", () => {
  it("disappear while another tab is still alive", () => {
    expect(
      planEndedTabs(
        [
          { id: "main", ended: false },
          { id: "t-a", ended: true },
        ],
        "t-a",
      ),
    ).toEqual({ remove: ["t-a"], lastEnded: null });
  });

  it("leave one tab behind, the one in view, to offer a new shell when every shell ended", () => {
    expect(
      planEndedTabs(
        [
          { id: "main", ended: true },
          { id: "t-a", ended: true },
        ],
        "t-a",
      ),
    ).toEqual({ remove: ["main"], lastEnded: "t-a" });
    expect(planEndedTabs([{ id: "main", ended: true }], "main")).toEqual({ remove: [], lastEnded: "main" });
  });

  it("change nothing when no shell ended", () => {
    expect(planEndedTabs([{ id: "main", ended: false }], "main")).toEqual({ remove: [], lastEnded: null });
  });

  it("hand the view to the left neighbour, or the right one for the first tab", () => {
    expect(tabAfterRemoval(["main", "t-a", "t-b"], "t-a")).toBe("main");
    expect(tabAfterRemoval(["main", "t-a", "t-b"], "main")).toBe("t-a");
    expect(tabAfterRemoval(["main"], "main")).toBeNull();
  });
});

describe("moving along the strip with the keyboard", () => {
  it("follows the arrow keys, Home and End, and wraps around", () => {
    const order = ["main", "t-a", "t-b"];
    expect(tabForKey(order, "main", "ArrowRight")).toBe("t-a");
    expect(tabForKey(order, "main", "ArrowLeft")).toBe("t-b");
    expect(tabForKey(order, "t-b", "ArrowRight")).toBe("main");
    expect(tabForKey(order, "t-a", "Home")).toBe("main");
    expect(tabForKey(order, "main", "End")).toBe("t-b");
    expect(tabForKey(order, "main", "Enter")).toBeNull();
  });
});

describe("new tab ids", () => {
  it("are valid terminal ids of the form t-xxxxxx", () => {
    const id = newTerminalId(new Set());
    expect(id).toMatch(/^t-[a-z0-9]{6}$/);
    expect(TerminalId.safeParse(id).success).toBe(true);
  });

  it("never reuse an id that is taken", () => {
    const draws = [new Uint8Array(6), new Uint8Array([1, 2, 3, 4, 5, 6])];
    const id = newTerminalId(new Set(["t-aaaaaa"]), () => draws.shift()!);
    expect(id).toBe("t-bcdefg");
  });
});

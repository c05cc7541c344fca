import { describe, expect, it } from "vitest";
import { BroadcastInbox } from "../../app/components/broadcast-inbox";

class MemoryStorage {
  readonly values = new Map<string, string>();
  getItem(key: string) {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.values.set(key, value);
  }
}

const message = (id: string | undefined, minute: number) => ({
  id,
  from: "Ines Instructor",
  message: `message ${id ?? "?"}`,
  at: `2026-11-23T10:${String(minute).padStart(2, "0")}:00.000Z`,
});

describe("BroadcastInbox", () => {
  it("shows each message once, oldest first, at most the newest three", () => {
    const inbox = new BroadcastInbox(new MemoryStorage());
    expect(inbox.receive(message("b", 2))).toBe(true);
    expect(inbox.receive(message("a", 1))).toBe(true);
    // A reconnect re-sends the recent ones: nothing changes.
    expect(inbox.receive(message("b", 2))).toBe(false);
    expect(inbox.list.map((each) => each.key)).toEqual(["a", "b"]);
    inbox.receive(message("c", 3));
    inbox.receive(message("d", 4));
    expect(inbox.list.map((each) => each.key)).toEqual(["b", "c", "d"]);
  });

  it("a dismissed message stays dismissed after a reload, and so does nothing else", () => {
    const storage = new MemoryStorage();
    const first = new BroadcastInbox(storage);
    first.receive(message("a", 1));
    first.receive(message("b", 2));
    first.dismiss("a");
    expect(first.list.map((each) => each.key)).toEqual(["b"]);

    const afterReload = new BroadcastInbox(storage);
    expect(afterReload.receive(message("a", 1))).toBe(false);
    expect(afterReload.receive(message("b", 2))).toBe(true);
    expect(afterReload.list.map((each) => each.key)).toEqual(["b"]);
  });

  it("messages without an id (an older server) are all shown; broken or missing storage is no error", () => {
    const inbox = new BroadcastInbox(null);
    inbox.receive(message(undefined, 1));
    inbox.receive(message(undefined, 1));
    expect(inbox.list).toHaveLength(2);
    inbox.dismiss(inbox.list[0]!.key);
    expect(inbox.list).toHaveLength(1);

    const broken = new MemoryStorage();
    broken.values.set("shellroom:dismissed-broadcasts", "{not json");
    const tolerant = new BroadcastInbox({
      getItem: (key) => broken.getItem(key),
      setItem: () => {
        throw new Error("quota exceeded");
      },
    });
    tolerant.receive(message("x", 1));
    tolerant.dismiss("x");
    expect(tolerant.list).toEqual([]);
  });
});

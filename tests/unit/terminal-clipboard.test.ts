import { describe, expect, it } from "vitest";
import { clipboardKey } from "../../app/components/terminal-clipboard";

const press = (key: string, modifiers: Partial<Record<"ctrlKey" | "shiftKey" | "altKey" | "metaKey", boolean>> = {}, code = `Key${key.toUpperCase()}`) => ({
  key,
  code,
  ctrlKey: false,
  shiftKey: false,
  altKey: false,
  metaKey: false,
  ...modifiers,
});

describe("copy and paste shortcuts in the terminal", () => {
  it("copies with Ctrl+Shift+C and pastes with Ctrl+Shift+V, leaving Ctrl+C to the shell", () => {
    expect(clipboardKey(press("C", { ctrlKey: true, shiftKey: true }), false)).toBe("copy");
    expect(clipboardKey(press("V", { ctrlKey: true, shiftKey: true }), false)).toBe("paste");
    expect(clipboardKey(press("c", { ctrlKey: true }), false)).toBeNull();
    expect(clipboardKey(press("C", { ctrlKey: true, shiftKey: true }), true)).toBe("copy");
  });

  it("lets the browser paste on Ctrl+V (Windows, Linux) instead of sending ^V", () => {
    expect(clipboardKey(press("v", { ctrlKey: true }), false)).toBe("native-paste");
    // On a Mac, Ctrl+V is not a paste: it stays the shell's.
    expect(clipboardKey(press("v", { ctrlKey: true }), true)).toBeNull();
  });

  it("keeps macOS's Cmd+C and Cmd+V with the browser", () => {
    expect(clipboardKey(press("c", { metaKey: true }), true)).toBe("native-copy");
    expect(clipboardKey(press("v", { metaKey: true }), true)).toBe("native-paste");
    expect(clipboardKey(press("c", { metaKey: true }), false)).toBeNull();
  });

  it("reads the physical key on non-Latin layouts and ignores other keys", () => {
    expect(clipboardKey(press("С", { ctrlKey: true, shiftKey: true }, "KeyC"), false)).toBe("copy");
    expect(clipboardKey(press("x", { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(clipboardKey(press("v", { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(clipboardKey(press("v"), false)).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { ViewerEscapeFilter, filterForViewer } from "../../server/gateway/viewer-escape-filter";

const bytes = (text: string) => new TextEncoder().encode(text);
const concat = (parts: Uint8Array[]) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
};
/** What a viewer would see printed: NUL and CAN removed. */
const visible = (chunk: Uint8Array) => new TextDecoder().decode(chunk.filter((b) => b !== 0 && b !== 0x18));
const blank = (length: number) => new Uint8Array(length);
/** A repeatable pseudo-random number generator, so failures can be replayed. */
const seeded = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** Filters `input` cut at `cuts`. Checks that every chunk keeps its length. */
function filterInChunks(input: Uint8Array, cuts: number[]): Uint8Array {
  const filter = new ViewerEscapeFilter();
  const bounds = [0, ...cuts, input.length];
  const parts = bounds.slice(1).map((end, k) => {
    const chunk = input.subarray(bounds[k], end);
    const out = filter.push(chunk);
    expect(out.length).toBe(chunk.length);
    return out;
  });
  return concat(parts);
}

/**
 * A small model of xterm.js's parser (VT500 table, with C1 controls "anywhere"). It gives the text the
 * viewer's terminal would print and the sequences it would run, e.g. "CSI 1;32m", "ESC 7",
 * "STRING ]" or "ENQ".
 */
function viewerRuns(stream: Uint8Array): { text: string; ran: string[] } {
  let text = "";
  const ran: string[] = [];
  let state: "ground" | "esc" | "csi" | "string" = "ground";
  let seq = "";
  const step = (c: number): void => {
    if (c === 0x18 || c === 0x1a) state = "ground";
    else if (c === 0x1b) [state, seq] = ["esc", ""];
    else if (c >= 0x80 && c < 0xa0) {
      [state, seq] = ["esc", ""];
      step(c - 0x40);
    } else if (state === "string") {
      if (c === 0x07) state = "ground";
    } else if (c < 0x20 || c === 0x7f) {
      if (c === 0x05) ran.push("ENQ");
    } else if (state === "ground") text += String.fromCodePoint(c);
    else if (c >= 0xa0) state = "ground";
    else {
      seq += String.fromCharCode(c);
      const run = (name: string, next: typeof state) => {
        ran.push(name);
        state = next;
      };
      if (state === "esc" && c === 0x5b) state = "csi";
      else if (state === "esc" && "]PX^_".includes(seq)) run(`STRING ${seq}`, "string");
      else if (state === "esc" && c >= 0x30) run(`ESC ${seq}`, "ground");
      else if (state === "csi" && c >= 0x40) run(`CSI ${seq.slice(1)}`, "ground");
    }
  };
  // xterm.js drops invalid UTF-8; TextDecoder marks it with U+FFFD, which is skipped here.
  for (const ch of new TextDecoder().decode(stream)) if (ch !== "\ufffd") step(ch.codePointAt(0)!);
  return { text, ran };
}

const isQuery = (ran: string) => /^(ENQ|STRING|ESC Z)|^CSI .*[nctx]$|^CSI .*\$[pwu]$|^CSI .*\*y$|^CSI >.*q$|^CSI \?.*[umS]$/.test(ran);

describe("sequences that never reach a viewer", () => {
  it("blanks an OSC 52 clipboard write ended by BEL and leaves the text around it alone", () => {
    const osc = "\x1b]52;c;aGVsbG8=\x07";
    const out = new ViewerEscapeFilter().push(bytes(`before${osc}after`));
    expect(out).toEqual(concat([bytes("before"), blank(osc.length), bytes("after")]));
  });

  it("blanks an OSC 52 ended by ST, including both bytes of the ST", () => {
    const out = new ViewerEscapeFilter().push(bytes("a\x1b]52;c;aGVsbG8=\x1b\\b"));
    expect(out).toEqual(concat([bytes("a"), blank(17), bytes("b")]));
  });

  it.each([
    ["a title change (OSC 0)", "\x1b]0;pwned\x07"],
    ["a window title (OSC 2)", "\x1b]2;pwned\x1b\\"],
    ["a javascript: hyperlink (OSC 8)", "\x1b]8;;javascript:alert(1)\x1b\\"],
    ["an https hyperlink too (all OSC are blocked)", "\x1b]8;;https://example.com\x07"],
    ["a DCS request (XTGETTCAP)", "\x1bP+q544e\x1b\\"],
    ["an APC string", "\x1b_Gf=100;AAAA\x1b\\"],
    ["a PM string", "\x1b^private\x1b\\"],
    ["a SOS string", "\x1bXstart of string\x1b\\"],
    ["a cursor position request (DSR 6)", "\x1b[6n"],
    ["a status request (DSR 5)", "\x1b[5n"],
    ["a DEC private status request", "\x1b[?6n"],
    ["primary device attributes (DA1)", "\x1b[c"],
    ["secondary device attributes (DA2)", "\x1b[>c"],
    ["tertiary device attributes (DA3)", "\x1b[=c"],
    ["a mode report request (DECRQM)", "\x1b[?1$p"],
    ["a window size report request", "\x1b[14t"],
    ["a window move", "\x1b[3;0;0t"],
    ["DECREQTPARM", "\x1b[x"],
    ["XTVERSION", "\x1b[>q"],
    ["a kitty keyboard query", "\x1b[?u"],
    ["DECID", "\x1bZ"],
    ["ENQ", "\x05"],
  ])("blanks %s completely", (_name, sequence) => {
    const out = new ViewerEscapeFilter().push(bytes(`<${sequence}>`));
    expect(out).toEqual(concat([bytes("<"), blank(bytes(sequence).length), bytes(">")]));
  });

  it("blanks the 8-bit C1 forms of OSC, CSI queries, DCS, ST and DECID", () => {
    const c1Forms = ["\u009d52;c;aGk=\u009c", "\u009b6n", "\u009b>c", "\u0090$qm\u009c", "\u009a", "\u009fx\u009c"];
    for (const sequence of c1Forms) {
      const input = bytes(`x${sequence}y`);
      const out = new ViewerEscapeFilter().push(input);
      expect(out).toEqual(concat([bytes("x"), blank(input.length - 2), bytes("y")]));
    }
  });

  it("blanks text inside a string, even characters whose lead byte 0xC2 could begin a C1 control", () => {
    const title = bytes("\x1b]0;© ± 中 title\x07");
    expect(new ViewerEscapeFilter().push(title)).toEqual(blank(title.length));
  });

  it("keeps blanking a DCS through a BEL, which does not end it", () => {
    const out = new ViewerEscapeFilter().push(bytes("\x1bPq#0;2;0;0;0\x07still dcs\x1b\\shown"));
    expect(visible(out)).toBe("shown");
  });

  it("stops blanking a string at CAN or SUB, which abort it", () => {
    const out = new ViewerEscapeFilter().push(bytes("\x1b]52;c;YQ==\x18one \x1bPdata\x1atwo"));
    expect(visible(out)).toBe("one two");
  });

  it("cancels a passed-on CSI prefix when a blocked sequence interrupts it", () => {
    const out = new ViewerEscapeFilter().push(bytes("\x1b[6\x1b]0;x\x07n"));
    expect(viewerRuns(out)).toEqual({ text: "n", ran: [] });
    expect(Array.from(out.subarray(3))).toEqual([0x18, 0, 0, 0, 0, 0, 0x6e]);
  });
});

describe("output that passes through byte for byte", () => {
  it("keeps colours, cursor movement, erasing, modes and charset selection", () => {
    const input = bytes(
      "\x1b[1;38;5;208mbold\x1b[0m\x1b[2J\x1b[H\x1b[10;20H\x1b[3A\x1b[K\x1b[?25l\x1b[?1049h\x1b[1;24r" +
        "\x1b7\x1b8\x1b(B\x1b=\x1b[2 q\x1bM\x1b[5S\x1b[38:2::255:0:0m\u009b1mc1 sgr\r\n\t\x08\x07",
    );
    const out = new ViewerEscapeFilter().push(input);
    expect(out).toEqual(input);
  });

  it("keeps UTF-8 text, including characters that share the 0xC2 lead byte with C1 controls", () => {
    const input = bytes("café 中文 🙂 © ± ¿ \u00a0nbsp ❯ ~/lab $ ");
    expect(new ViewerEscapeFilter().push(input)).toEqual(input);
  });

  it("returns a new array and never changes the input", () => {
    const input = bytes("x\x1b]52;c;YQ==\x07y");
    const copy = input.slice();
    const out = new ViewerEscapeFilter().push(input);
    expect(out).not.toBe(input);
    expect(input).toEqual(copy);
  });

  it("returns an empty chunk for an empty chunk and keeps its state", () => {
    const filter = new ViewerEscapeFilter();
    expect(filter.push(bytes("\x1b]0;t")).every((b) => b === 0)).toBe(true);
    expect(filter.push(new Uint8Array(0)).length).toBe(0);
    expect(visible(filter.push(bytes("itle\x07ok")))).toBe("ok");
  });
});

describe("sequences split across chunks", () => {
  it("cancels an ESC from the previous chunk with CAN when an OSC follows", () => {
    const filter = new ViewerEscapeFilter();
    expect(filter.push(bytes("a\x1b"))).toEqual(bytes("a\x1b"));
    const out = filter.push(bytes("]52;c;YQ==\x07b"));
    expect(Array.from(out)).toEqual([0x18, ...blank(10), 0x62]);
  });

  it("cancels a CSI prefix with CAN when its final byte turns it into a query", () => {
    const filter = new ViewerEscapeFilter();
    expect(filter.push(bytes("\x1b[6"))).toEqual(bytes("\x1b[6"));
    expect(Array.from(filter.push(bytes("n$ ")))).toEqual([0x18, 0x24, 0x20]);
  });

  it("cancels a 0xC2 lead byte with CAN when it turns out to start a C1 OSC", () => {
    const filter = new ViewerEscapeFilter();
    expect(Array.from(filter.push(bytes("x\u009d").subarray(0, 2)))).toEqual([0x78, 0xc2]);
    const out = filter.push(Uint8Array.of(0x9d, 0x32, 0x3b, 0x74, 0x07, 0x79)); // "2;t" BEL "y"
    expect(Array.from(out)).toEqual([0x18, 0, 0, 0, 0, 0x79]);
  });

  it("keeps blanking an OSC across many chunks until its terminator arrives", () => {
    const filter = new ViewerEscapeFilter();
    expect(filter.push(bytes("\x1b]52;c;")).every((b) => b === 0)).toBe(true);
    for (let k = 0; k < 100; k++) expect(filter.push(bytes("QUFBQUFB")).every((b) => b === 0)).toBe(true);
    expect(Array.from(filter.push(bytes("\x1b")))).toEqual([0x1b]);
    expect(Array.from(filter.push(bytes("\\ok")))).toEqual([0x18, 0x6f, 0x6b]);
  });

  it("passes an allowed sequence split in the middle unchanged", () => {
    const filter = new ViewerEscapeFilter();
    expect(filter.push(bytes("\x1b[3"))).toEqual(bytes("\x1b[3"));
    expect(filter.push(bytes("1mred"))).toEqual(bytes("1mred"));
    expect(filter.push(bytes("é").subarray(0, 1))).toEqual(bytes("é").subarray(0, 1));
    expect(filter.push(bytes("é").subarray(1))).toEqual(bytes("é").subarray(1));
  });

  const sample = bytes(
    "é$ \x1b[1;32mok\x1b[0m 中\x1b]52;c;aGVsbG8=\x07 x\x1b[6n y\x1b]0;pwned\x1b\\ 🙂\x1bP+q544e\x1b\\ z" +
      "\x1b[>c\u009b5n\u009d2;t\u009c w\x1b[?1$p\x1b[14t\x05\x1bZ\u009b1m end\x1b[2J" +
      "\x1b]8;;javascript:x\x07\x1b[H\x1b7\x1b(B",
  );
  const expected = {
    text: "é$ ok 中 x y 🙂 z w end",
    ran: ["CSI 1;32m", "CSI 0m", "CSI 1m", "CSI 2J", "CSI H", "ESC 7", "ESC (B"],
  };

  it("gives the viewer the same text and sequences wherever the stream is cut", () => {
    expect(viewerRuns(filterInChunks(sample, []))).toEqual(expected);
    expect(visible(filterInChunks(sample, []))).toBe("é$ \x1b[1;32mok\x1b[0m 中 x y 🙂 z w\u009b1m end\x1b[2J\x1b[H\x1b7\x1b(B");
    for (let cut = 1; cut < sample.length; cut++) {
      expect(viewerRuns(filterInChunks(sample, [cut])), `cut at ${cut}`).toEqual(expected);
    }
  });

  it("gives the viewer the same text and sequences when every byte is its own chunk", () => {
    const everyByte = Array.from({ length: sample.length - 1 }, (_, k) => k + 1);
    expect(viewerRuns(filterInChunks(sample, everyByte))).toEqual(expected);
  });

  it("gives the viewer the same text and sequences for random cuts", () => {
    const random = seeded(7);
    for (let run = 0; run < 300; run++) {
      const count = 1 + Math.floor(random() * 12);
      const cuts = Array.from({ length: count }, () => 1 + Math.floor(random() * (sample.length - 1)));
      expect(
        viewerRuns(
          filterInChunks(
            sample,
            [...new Set(cuts)].sort((a, b) => a - b),
          ),
        ),
      ).toEqual(expected);
    }
  });

  it("never lets a query or string through for random byte soup cut at random", () => {
    const pieces = [
      ..."\x1b[]PXZ^_\\6n c>?=$pqtxum*y;1\x07\x18\x1a\x05 é中".split("").map(bytes),
      bytes("\u009b"),
      bytes("\u009d"),
      bytes("\u009c"),
      bytes("\u0090"),
      bytes("\u009a"),
      Uint8Array.of(0xc2),
      Uint8Array.of(0x9b),
      Uint8Array.of(0x9d),
      Uint8Array.of(0xe4),
      Uint8Array.of(0xb8),
    ];
    const random = seeded(42);
    for (let run = 0; run < 3000; run++) {
      const soup = concat(Array.from({ length: 40 }, () => pieces[Math.floor(random() * pieces.length)]));
      const cuts = Array.from({ length: soup.length - 1 }, (_, k) => k + 1).filter(() => random() < 0.2);
      const { ran } = viewerRuns(filterInChunks(soup, cuts));
      expect(ran.filter(isQuery), Buffer.from(soup).toString("hex")).toEqual([]);
    }
  });
});

describe("filtering a whole string for a viewer", () => {
  it("removes blocked sequences and keeps text, colours and cursor movement", () => {
    expect(filterForViewer("\x1b[31mred\x1b[0m\x1b]52;c;aGk=\x07 \x1b]0;t\x1b\\中\x1b[6n\x1b[2;3H🙂")).toBe("\x1b[31mred\x1b[0m 中\x1b[2;3H🙂");
    expect(filterForViewer("\u009d0;title\u009cplain é")).toBe("plain é");
    expect(filterForViewer("\x1b]0;© title\x07ok ©")).toBe("ok ©");
    expect(filterForViewer("")).toBe("");
  });

  it("keeps a CAN where a blocked sequence interrupts an unfinished one", () => {
    const filtered = filterForViewer("\x1b[6\x1b]0;x\x07n");
    expect(filtered).toBe("\x1b[6\x18n");
    expect(viewerRuns(bytes(filtered))).toEqual({ text: "n", ran: [] });
  });

  it("ends a string that stops inside an escape sequence with CAN", () => {
    expect(filterForViewer("prompt\x1b[6")).toBe("prompt\x1b[6\x18");
    expect(filterForViewer("prompt\x1b")).toBe("prompt\x1b\x18");
    expect(filterForViewer("prompt\x1b]52;c;unterminated")).toBe("prompt");
  });
});

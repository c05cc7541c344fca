import { expect, it } from "vitest";
import { csvCell, progressCsv } from "../../server/labs/progress-csv";

it("quotes cells, doubles quotes and keeps spreadsheet formulas inert", () => {
  expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
  for (const formula of ["=1+1", "+1", "-1", "@SUM(A1)"]) expect(csvCell(formula)).toBe(`"'${formula}"`);
});

it("writes one row per student with each step's first pass time and attempts", () => {
  const passedAt = new Date("2026-11-23T10:00:00Z");
  const csv = progressCsv(
    ["One", "Two"],
    [
      { displayName: "Ana", email: "ana@example.test", steps: [{ passed: true, attempts: 2, firstPassedAt: passedAt }, null] },
      { displayName: "Ben", email: null, steps: [null, { passed: false, attempts: 4, firstPassedAt: null }] },
    ],
  );
  expect(csv.split("\r\n")).toEqual([
    '"Student","Email","Step 1: One (passed at)","Step 1 attempts","Step 2: Two (passed at)","Step 2 attempts","Steps passed"',
    '"Ana","ana@example.test","2026-11-23T10:00:00.000Z","2","","0","1"',
    '"Ben","","","0","","4","0"',
    "",
  ]);
});

/** The progress table as CSV: one row per student, one column per step. */

export interface ProgressRow {
  displayName: string;
  email: string | null;
  steps: Array<{ passed: boolean; attempts: number; firstPassedAt: Date | null } | null>;
}

/**
 * Quotes every cell, and defuses cells a spreadsheet would run as a formula (a student
 * can choose their display name: "=HYPERLINK(...)" must stay text).
 */
export function csvCell(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${defused.replace(/"/g, '""')}"`;
}

export function progressCsv(stepTitles: string[], rows: ProgressRow[]): string {
  const header = [
    "Student",
    "Email",
    ...stepTitles.flatMap((title, index) => [`Step ${index + 1}: ${title} (passed at)`, `Step ${index + 1} attempts`]),
    "Steps passed",
  ];
  const lines = [header.map(csvCell).join(",")];
  for (const row of rows) {
    const cells = [row.displayName, row.email ?? ""];
    for (const step of row.steps) cells.push(step?.firstPassedAt?.toISOString() ?? "", String(step?.attempts ?? 0));
    cells.push(String(row.steps.filter((step) => step?.firstPassedAt).length));
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

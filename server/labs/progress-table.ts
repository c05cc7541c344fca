/** Everyone's progress in a lab (students x steps), and in a whole course (students x labs), read from the database. */
import type { Database } from "../database/client";
import { csvCell, progressCsv, type ProgressRow } from "./progress-csv";

export async function progressTable(db: Database, labId: string) {
  const lab = await db.lab.findUniqueOrThrow({
    where: { id: labId },
    select: { title: true, courseId: true, steps: { orderBy: { position: "asc" }, select: { id: true, title: true, checkScript: true } } },
  });
  const students = await db.courseMember.findMany({
    where: { courseId: lab.courseId, role: "STUDENT" },
    orderBy: { createdAt: "asc" },
    select: { user: { select: { id: true, displayName: true, email: true } } },
  });
  const results = await db.stepResult.findMany({ where: { labId } });
  const byKey = new Map(results.map((result) => [`${result.userId}/${result.stepId}`, result]));
  const rows = students.map(({ user }) => ({
    userId: user.id,
    displayName: user.displayName,
    email: user.email,
    steps: lab.steps.map((step) => {
      const result = byKey.get(`${user.id}/${step.id}`);
      return result ? { passed: result.passed, attempts: result.attempts, firstPassedAt: result.firstPassedAt } : null;
    }),
  }));
  return { title: lab.title, steps: lab.steps.map(({ checkScript, ...step }) => ({ ...step, hasCheck: Boolean(checkScript) })), rows };
}

const fileNameOf = (title: string) =>
  title
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase() || "lab";

/** One lab's table as the CSV staff download. */
export async function labProgressExport(db: Database, labId: string) {
  const table = await progressTable(db, labId);
  const rows: ProgressRow[] = table.rows;
  return {
    filename: `${fileNameOf(table.title)}-progress.csv`,
    csv: progressCsv(
      table.steps.map((step) => step.title),
      rows,
    ),
  };
}

/** A whole course as one CSV: a row per student and lab, with checks passed and when the last of them first passed. */
export async function courseProgressExport(db: Database, courseId: string) {
  const course = await db.course.findUniqueOrThrow({
    where: { id: courseId },
    select: { title: true, labs: { orderBy: { position: "asc" }, select: { id: true } } },
  });
  const lines = [["Lab", "Student", "Email", "Checks passed", "Checks", "Completed at"].map(csvCell).join(",")];
  for (const lab of course.labs) {
    const table = await progressTable(db, lab.id);
    // Steps without a check are never "passed": a lab is complete when every checked step is.
    const checked = table.steps.flatMap((step, index) => (step.hasCheck ? [index] : []));
    for (const row of table.rows) {
      const passedAt = checked.flatMap((index) => row.steps[index]?.firstPassedAt ?? []);
      const complete = checked.length > 0 && passedAt.length === checked.length;
      const completedAt = complete ? new Date(Math.max(...passedAt.map((at) => at.getTime()))).toISOString() : "";
      lines.push([table.title, row.displayName, row.email ?? "", String(passedAt.length), String(checked.length), completedAt].map(csvCell).join(","));
    }
  }
  return { filename: `${fileNameOf(course.title)}-progress.csv`, csv: `${lines.join("\r\n")}\r\n` };
}

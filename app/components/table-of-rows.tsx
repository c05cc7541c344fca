/**
 * A table of rows under its column headings, in the wrapper that scrolls it sideways on a narrow
 * screen. `notice` stands in one full-width row where there are no rows to show (still loading,
 * or none at all).
 */
import type { ReactNode } from "react";

export function TableOfRows({
  headings,
  notice,
  inCard = false,
  className = "table",
  label,
  children,
}: {
  headings: readonly ReactNode[];
  /** Its accessible name, where the page shows more than one table. */
  label?: string;
  notice?: ReactNode;
  /** A card of its own, edge to edge, rather than a table inside one. */
  inCard?: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className={inCard ? "table-wrap card flush" : "table-wrap"}>
      <table className={className} aria-label={label}>
        <thead>
          <tr>
            {headings.map((heading, column) => (
              <th key={column}>{heading}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children}
          {notice ? (
            <tr>
              <td colSpan={headings.length} className="empty">
                {notice}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { isCourseStudent } from "../../../common/access";
import { formErrorText } from "../../components/errors";

const ROLE_NAMES = { INSTRUCTOR: "Instructor", ASSISTANT: "Assistant", STUDENT: "Student" } as const;

export function MembersTable({ courseId }: { courseId: string }) {
  const trpc = useTRPC();
  const members = useQuery(trpc.course.members.queryOptions({ courseId }));
  const error = formErrorText(members.error);
  const students = members.data?.filter((member) => isCourseStudent(member.role)).length ?? 0;

  return (
    <section className="card section" aria-labelledby="members-heading">
      <div className="section-head">
        <h2 id="members-heading">Members</h2>
        {members.data && (
          <span className="muted small">
            {members.data.length} in total, {students} student{students === 1 ? "" : "s"}
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {members.isLoading && <p className="muted">Loading members…</p>}
      {members.data && (
        <div className="table-wrap">
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Joined</th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((member) => (
                <tr key={member.id}>
                  <td>{member.displayName}</td>
                  <td>{member.email ?? <span className="muted">joined by link</span>}</td>
                  <td>
                    <span className={`role-pill ${member.role.toLowerCase()}`}>{ROLE_NAMES[member.role]}</span>
                  </td>
                  <td className="muted nowrap">{new Date(member.joinedAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}</td>
                </tr>
              ))}
              {members.data.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    Nobody has joined yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

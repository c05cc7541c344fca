"use client";
import { useDeferredValue, useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { ErrorAlert } from "../../components/error-alert";
import { formErrorText } from "../../components/errors";
import { TableOfRows } from "../../components/table-of-rows";
import { AdminOnly } from "../admin-only";
import { AdminLinks } from "../admin-links";

const ROLES = [
  { value: "ADMIN", label: "Administrator" },
  { value: "INSTRUCTOR", label: "Instructor" },
  { value: "STUDENT", label: "Student" },
] as const;
type Role = (typeof ROLES)[number]["value"];

export default function AdminUsersPage() {
  return (
    <AdminOnly title="Users" refusal="Only administrators can manage users and their roles.">
      {(me) => <UserDirectory myId={me.id} />}
    </AdminOnly>
  );
}

function UserDirectory({ myId }: { myId: string }) {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const deferred = useDeferredValue(search.trim());
  const users = useQuery(trpc.admin.users.queryOptions({ search: deferred }, { placeholderData: keepPreviousData }));
  const error = formErrorText(users.error);
  const notice =
    users.data?.length === 0 ? (deferred ? `Nobody matches “${deferred}”.` : "No users yet.") : !users.data && users.isLoading ? "Loading users…" : null;

  return (
    <main className="page wide">
      <div className="page-title">
        <h1>Users</h1>
        <p className="muted">
          Grant the instructor role to people who create courses; administrators manage everyone.
          <AdminLinks current="/admin/users" />
        </p>
      </div>
      <div className="toolbar">
        <input
          type="search"
          className="search"
          placeholder="Search by name or email"
          aria-label="Search users"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          maxLength={Bounds.userSearch.max}
        />
        {users.isFetching && <span className="spinner dark" aria-label="Searching" />}
        {users.data && (
          <span className="muted small">
            {users.data.length === 500 ? "First 500 users" : `${users.data.length} user${users.data.length === 1 ? "" : "s"}`}
          </span>
        )}
      </div>
      <ErrorAlert text={error} />
      <TableOfRows inCard headings={["Name", "Email", "Role", "Since", "Password"]} notice={notice}>
        {users.data?.map((user) => (
          <UserRow key={user.id} user={user} isMe={user.id === myId} />
        ))}
      </TableOfRows>
    </main>
  );
}

type UserSummary = { id: string; displayName: string; email: string | null; role: Role; createdAt: string | Date };

function UserRow({ user, isMe }: { user: UserSummary; isMe: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  const setRole = useMutation(
    trpc.admin.setRole.mutationOptions({
      onMutate: () => setSaved(false),
      onSuccess: async () => {
        setSaved(true);
        await queryClient.invalidateQueries({ queryKey: trpc.admin.users.queryKey() });
      },
    }),
  );
  const error = formErrorText(setRole.error);
  const role = setRole.isPending && setRole.variables ? setRole.variables.role : user.role;

  return (
    <tr data-testid="user-row" data-email={user.email ?? ""}>
      <td>
        {user.displayName}
        {isMe && <span className="badge neutral">you</span>}
      </td>
      <td>{user.email ?? <span className="muted">no email (joined by link)</span>}</td>
      <td>
        <div className="role-cell">
          <select
            aria-label={`Role of ${user.displayName}`}
            value={role}
            disabled={isMe || setRole.isPending}
            title={isMe ? "You cannot change your own role" : undefined}
            onChange={(e) => setRole.mutate({ userId: user.id, role: e.target.value as Role })}
          >
            {ROLES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
          {setRole.isPending && <span className="spinner dark" aria-label="Saving" />}
          {saved && !setRole.isPending && (
            <span className="saved" role="status">
              Saved
            </span>
          )}
        </div>
        {error && (
          <span className="field-error" role="alert">
            {error}
          </span>
        )}
      </td>
      <td className="muted nowrap">{new Date(user.createdAt).toLocaleDateString(undefined, { dateStyle: "medium" })}</td>
      <td>
        <ResetLink user={user} />
      </td>
    </tr>
  );
}

/** A one-time reset link for the user: shown here once (only its hash is kept), to pass on to them. */
function ResetLink({ user }: { user: UserSummary }) {
  const trpc = useTRPC();
  const make = useMutation(trpc.admin.createPasswordResetLink.mutationOptions());
  const error = formErrorText(make.error);
  if (make.data) {
    const link = `${window.location.origin}${make.data.path}`;
    return (
      <div className="stack">
        <input
          readOnly
          value={link}
          aria-label={`Reset link for ${user.displayName}`}
          onFocus={(event) => event.currentTarget.select()}
          data-testid="reset-link"
        />
        <span className="muted small" role="status">
          Shown once. Works once, until {new Date(make.data.expiresAt).toLocaleTimeString(undefined, { timeStyle: "short" })}.
        </span>
      </div>
    );
  }
  return (
    <>
      <button type="button" className="secondary small-button" disabled={make.isPending} onClick={() => make.mutate({ userId: user.id })}>
        {make.isPending ? "Making…" : "Make a reset link"}
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

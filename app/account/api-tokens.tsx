"use client";
/**
 * The account page's API tokens: make one (its secret is shown once, here), see when each was
 * last used, revoke it. A token acts as this account, within the scopes chosen.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { API_SCOPES, type ApiScope } from "../../common/access";
import { formErrorText } from "../components/errors";
import { CodeChoices } from "../components/code-choices";
import { Field } from "../components/field";
import { FormSubmit } from "../components/form-submit";
import { TableOfRows } from "../components/table-of-rows";
import { useTRPC } from "../trpc";

const SCOPE_HELP: Record<ApiScope, string> = {
  read: "read courses, members, environments and progress",
  "progress:read": "export progress only",
  "courses:write": "create courses, add members",
  "labs:write": "push labs",
  "environments:write": "stop environments",
};

const when = (date: string | Date | null) => (date ? new Date(date).toLocaleString() : "never");

export function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.apiToken.mine.queryOptions());
  const [name, setName] = useState("");
  const [days, setDays] = useState(90);
  const [scopes, setScopes] = useState<ApiScope[]>(["read"]);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiToken.mine.queryKey() });
  const create = useMutation(trpc.apiToken.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.apiToken.revoke.mutationOptions({ onSuccess: refresh }));
  const error = formErrorText(create.error ?? revoke.error);

  return (
    <section className="card section">
      <h2>API tokens</h2>
      <p className="muted small">
        For scripts and the <code>shellroom</code> command line: send <code>Authorization: Bearer &lt;token&gt;</code> to <code>/api/v1</code>. A token can do
        only what you can, within its scopes.
      </p>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ name, scopes, days });
        }}
        aria-busy={create.isPending}
      >
        <Field label="Name">
          <input value={name} onChange={(event) => setName(event.target.value)} maxLength={80} required data-testid="token-name" />
        </Field>
        <CodeChoices legend="Scopes" codes={API_SCOPES} help={SCOPE_HELP} chosen={scopes} onChange={setScopes} />
        <Field label="Expires after (days)">
          <input type="number" min={1} max={366} value={days} onChange={(event) => setDays(Number(event.target.value))} />
        </Field>
        <FormSubmit error={error} pending={create.isPending} label="Make a token" pendingLabel="Making…" />
      </form>
      {create.data && (
        <p className="success" role="status" data-testid="token-secret">
          Copy it now, it is not shown again: <code>{create.data.secret}</code>
        </p>
      )}
      {tokens.data && tokens.data.length > 0 && (
        <TableOfRows className="table small" headings={["Name", "Scopes", "Expires", "Last used", null]}>
          {tokens.data.map((token) => (
            <tr key={token.id}>
              <td>
                {token.name} <code className="muted">{token.prefix}…</code>
              </td>
              <td>{token.scopes.join(", ")}</td>
              <td>{when(token.expiresAt)}</td>
              <td>{when(token.lastUsedAt)}</td>
              <td>
                {token.revokedAt ? (
                  <span className="muted">revoked</span>
                ) : (
                  <button type="button" className="danger" disabled={revoke.isPending} onClick={() => revoke.mutate({ tokenId: token.id })}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </TableOfRows>
      )}
    </section>
  );
}

"use client";
/**
 * Service tokens: for an integration (an LMS sync, a provisioning script), a token that acts as
 * a service account of its own rather than as a person, so it outlives whoever made it. Made
 * here by an administrator with the account's role (every course, or the courses it creates or
 * is added to); its secret is shown once; any of them can be revoked here.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SERVICE_ACCOUNT_ROLES } from "../../../common/access";
import { formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { FormSubmit } from "../../components/form-submit";
import { QueryFallback } from "../../components/query-fallback";
import { NewTokenSecret, TokenDraftFields, TokenTable, newTokenDraft } from "../../components/api-token-pieces";
import { useTRPC } from "../../trpc";
import { AdminLinks } from "../admin-links";
import { AdminOnly } from "../admin-only";

type ServiceRole = (typeof SERVICE_ACCOUNT_ROLES)[number];

const ROLE_HELP: Record<ServiceRole, string> = {
  ADMIN: "administrator: every course",
  INSTRUCTOR: "instructor: the courses it creates or is added to",
};

function ServiceTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.apiToken.services.queryOptions());
  const [draft, setDraft] = useState(newTokenDraft);
  const [role, setRole] = useState<ServiceRole>("INSTRUCTOR");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiToken.services.queryKey() });
  const create = useMutation(trpc.apiToken.createService.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.apiToken.revoke.mutationOptions({ onSuccess: refresh }));
  const error = formErrorText(create.error ?? revoke.error);

  return (
    <>
      <section className="card section">
        <h2>New service token</h2>
        <form
          className="form"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({ ...draft, role });
          }}
          aria-busy={create.isPending}
        >
          <TokenDraftFields draft={draft} onChange={setDraft} />
          <Field label="Acts as">
            <select value={role} onChange={(event) => setRole(event.target.value as ServiceRole)}>
              {SERVICE_ACCOUNT_ROLES.map((code) => (
                <option key={code} value={code}>
                  {ROLE_HELP[code]}
                </option>
              ))}
            </select>
          </Field>
          <FormSubmit error={error} pending={create.isPending} label="Make a service token" pendingLabel="Making…" />
        </form>
        <NewTokenSecret secret={create.data?.secret} />
      </section>
      <section className="card section">
        <h2>Service tokens</h2>
        {tokens.data ? (
          tokens.data.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <TokenTable
              tokens={tokens.data}
              label="Service tokens"
              extra={{ headings: ["Acts as"], cells: (token) => [ROLE_HELP[token.user.role as ServiceRole] ?? token.user.role] }}
              revoking={revoke.isPending}
              onRevoke={(tokenId) => revoke.mutate({ tokenId })}
            />
          )
        ) : (
          <QueryFallback query={tokens} loading="Loading service tokens…" />
        )}
      </section>
    </>
  );
}

export default function AdminServiceTokensPage() {
  return (
    <AdminOnly title="Service tokens" refusal="Only administrators can manage service tokens.">
      {() => (
        <main className="page">
          <div className="page-title">
            <h1>Service tokens</h1>
            <p className="muted">
              For integrations: each acts as a service account of its own, not as a person, within the scopes chosen. Send{" "}
              <code>Authorization: Bearer &lt;token&gt;</code> to <code>/api/v1</code>.
              <AdminLinks current="/admin/service-tokens" />
            </p>
          </div>
          <ServiceTokens />
        </main>
      )}
    </AdminOnly>
  );
}

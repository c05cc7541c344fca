"use client";
/**
 * The account page's API tokens: make one (its secret is shown once, here), see when each was
 * last used, revoke it. A token acts as this account, within the scopes chosen.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { formErrorText } from "../components/errors";
import { FormSubmit } from "../components/form-submit";
import { NewTokenSecret, TokenDraftFields, TokenTable, newTokenDraft } from "../components/api-token-pieces";
import { useTRPC } from "../trpc";

export function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.apiToken.mine.queryOptions());
  const [draft, setDraft] = useState(newTokenDraft);
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
          create.mutate(draft);
        }}
        aria-busy={create.isPending}
      >
        <TokenDraftFields draft={draft} onChange={setDraft} />
        <FormSubmit error={error} pending={create.isPending} label="Make a token" pendingLabel="Making…" />
      </form>
      <NewTokenSecret secret={create.data?.secret} />
      <TokenTable tokens={tokens.data ?? []} label="Your API tokens" revoking={revoke.isPending} onRevoke={(tokenId) => revoke.mutate({ tokenId })} />
    </section>
  );
}

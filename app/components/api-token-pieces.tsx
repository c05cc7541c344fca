/**
 * What the account page's API tokens and the administrators' service tokens share: the fields a
 * new token is made with, its secret (shown once), and the list of tokens with their revoke
 * buttons. The pages own their queries; these only draw.
 */
import type { ReactNode } from "react";
import { API_SCOPES, type ApiScope } from "../../common/access";
import { CodeChoices } from "./code-choices";
import { Field } from "./field";
import { TableOfRows } from "./table-of-rows";

const SCOPE_HELP: Record<ApiScope, string> = {
  read: "read courses, members, environments and progress",
  "progress:read": "export progress only",
  "courses:write": "create courses, add members",
  "labs:write": "push labs",
  "environments:write": "stop environments",
};

/** Days a token lasts unless its maker says otherwise. */
export const DEFAULT_TOKEN_DAYS = 90;

export interface TokenDraft {
  name: string;
  scopes: ApiScope[];
  days: number;
}

export const newTokenDraft = (): TokenDraft => ({ name: "", scopes: ["read"], days: DEFAULT_TOKEN_DAYS });

/** Name, scopes and lifetime of a token being made. */
export function TokenDraftFields({ draft, onChange }: { draft: TokenDraft; onChange: (draft: TokenDraft) => void }) {
  return (
    <>
      <Field label="Name">
        <input value={draft.name} onChange={(event) => onChange({ ...draft, name: event.target.value })} maxLength={80} required data-testid="token-name" />
      </Field>
      <CodeChoices legend="Scopes" codes={API_SCOPES} help={SCOPE_HELP} chosen={draft.scopes} onChange={(scopes) => onChange({ ...draft, scopes })} />
      <Field label="Expires after (days)">
        <input type="number" min={1} max={366} value={draft.days} onChange={(event) => onChange({ ...draft, days: Number(event.target.value) })} />
      </Field>
    </>
  );
}

/** A token just made: its secret, which is never shown again. */
export function NewTokenSecret({ secret }: { secret: string | undefined }) {
  if (!secret) return null;
  return (
    <p className="success" role="status" data-testid="token-secret">
      Copy it now, it is not shown again: <code>{secret}</code>
    </p>
  );
}

export interface ListedToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expiresAt: string | Date;
  lastUsedAt: string | Date | null;
  revokedAt: string | Date | null;
}

const when = (date: string | Date | null) => (date ? new Date(date).toLocaleString() : "never");

/** The tokens, newest first, each with its revoke button (or "revoked"); `extra` adds columns after the name. */
export function TokenTable<Token extends ListedToken>({
  tokens,
  label,
  extra,
  revoking,
  onRevoke,
}: {
  tokens: readonly Token[];
  label: string;
  extra?: { headings: string[]; cells: (token: Token) => ReactNode[] };
  revoking: boolean;
  onRevoke: (tokenId: string) => void;
}) {
  if (tokens.length === 0) return null;
  return (
    <TableOfRows className="table small" label={label} headings={["Name", ...(extra?.headings ?? []), "Scopes", "Expires", "Last used", null]}>
      {tokens.map((token) => (
        <tr key={token.id}>
          <td>
            {token.name} <code className="muted">{token.prefix}…</code>
          </td>
          {extra?.cells(token).map((cell, column) => (
            <td key={column}>{cell}</td>
          ))}
          <td>{token.scopes.join(", ")}</td>
          <td>{when(token.expiresAt)}</td>
          <td>{when(token.lastUsedAt)}</td>
          <td>
            {token.revokedAt ? (
              <span className="muted">revoked</span>
            ) : (
              <button type="button" className="danger" disabled={revoking} onClick={() => onRevoke(token.id)} aria-label={`Revoke ${token.name}`}>
                Revoke
              </button>
            )}
          </td>
        </tr>
      ))}
    </TableOfRows>
  );
}

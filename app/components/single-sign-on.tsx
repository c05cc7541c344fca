"use client";
/** "Sign in with <provider>" for each OpenID Provider the operator configured; each returns to `next`. */
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc";

/** What the server's `sso_error` codes mean to the person who was sent back. */
export const SSO_ERROR_TEXT: Record<string, string> = {
  domain_not_allowed: "Your account at that provider is not in a domain allowed here. Use your institution's account.",
  email_not_verified:
    "An account here already uses that email, and the provider does not confirm you own it. Sign in with your password, or ask the provider to verify your email.",
  unknown_provider: "That sign-in provider is not configured here.",
  provider_unavailable: "The sign-in provider could not be reached. Try again in a moment.",
  flow_expired: "The sign-in took too long or was started in another browser. Try again.",
  refused: "The sign-in provider's answer could not be verified. Try again; if it keeps failing, tell your administrator.",
};

export function SingleSignOn({ next }: { next: string }) {
  const trpc = useTRPC();
  const options = useQuery(trpc.auth.signInOptions.queryOptions(undefined, { staleTime: Infinity }));
  const providers = options.data?.providers ?? [];
  if (providers.length === 0) return null;
  return (
    <div className="single-sign-on stack">
      {providers.map((provider) => (
        <a key={provider.id} className="button secondary" href={`/api/auth/oidc/${encodeURIComponent(provider.id)}/start?next=${encodeURIComponent(next)}`}>
          Sign in with {provider.name}
        </a>
      ))}
    </div>
  );
}

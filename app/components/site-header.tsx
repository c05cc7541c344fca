"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";

export function SiteHeader() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const signOut = useMutation(trpc.auth.signOut.mutationOptions({
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      router.push("/sign-in");
    },
  }));
  return (
    <header className="site-header">
      <Link href="/" className="brand"><span className="brand-mark">&gt;_</span> Shellroom</Link>
      <nav>
        {me.data ? (
          <>
            <span className="who" data-testid="signed-in-as">{me.data.displayName}</span>
            <button className="link-button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>Sign out</button>
          </>
        ) : me.isSuccess ? <Link href="/sign-in">Sign in</Link> : null}
      </nav>
    </header>
  );
}

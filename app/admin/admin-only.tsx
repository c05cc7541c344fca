"use client";
/** The gate of every administrators' page: sign-in first, then a plain refusal for anyone who is not an administrator. */
import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { isAdmin } from "../../common/access";
import { QueryFallback } from "../components/query-fallback";

export function AdminOnly({ title, refusal, children }: { title: string; refusal: string; children: (me: { id: string }) => ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());

  useEffect(() => {
    if (me.isSuccess && !me.data) router.replace("/sign-in");
  }, [me.isSuccess, me.data, router]);

  if (!me.data)
    return (
      <main className="page">
        <QueryFallback query={me} loading="Loading…" />
      </main>
    );
  if (!isAdmin(me.data)) {
    return (
      <main className="page narrow">
        <h1>{title}</h1>
        <p className="notice warn" role="alert">
          {refusal}
        </p>
      </main>
    );
  }
  return children(me.data);
}

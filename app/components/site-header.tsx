"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { isAdmin } from "../../common/access";
import { formErrorText } from "./errors";

export function SiteHeader() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/sign-in");
      },
    }),
  );
  const signOutError = formErrorText(signOut.error);
  const current = (href: string) => (pathname === href || pathname.startsWith(`${href}/`) ? "page" : undefined);

  return (
    <header className="site-header">
      <Link href="/" className="brand">
        <span className="brand-mark">&gt;_</span> Shellroom
      </Link>
      <nav aria-label="Main">
        {me.data ? (
          <>
            <Link href="/" aria-current={pathname === "/" ? "page" : undefined}>
              Courses
            </Link>
            {isAdmin(me.data) && (
              <Link href="/admin/users" aria-current={current("/admin")}>
                Admin
              </Link>
            )}
            <Link href="/account" aria-current={current("/account")}>
              Account
            </Link>
            <span className="nav-divider" aria-hidden="true" />
            <span className="who" data-testid="signed-in-as">
              {me.data.displayName}
            </span>
            <button className="link-button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
              {signOut.isPending ? "Signing out…" : "Sign out"}
            </button>
            {signOutError && (
              <span className="header-error" role="alert">
                {signOutError}
              </span>
            )}
          </>
        ) : me.isSuccess ? (
          <>
            <Link href="/sign-in" aria-current={current("/sign-in")}>
              Sign in
            </Link>
            <Link href="/sign-up" className="nav-cta" aria-current={current("/sign-up")}>
              Sign up
            </Link>
          </>
        ) : null}
      </nav>
    </header>
  );
}

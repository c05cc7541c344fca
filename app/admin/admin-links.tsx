/** The administrators' other pages, named in each one's introduction. */
import Link from "next/link";
import { Fragment } from "react";

const ADMIN_PAGES = [
  { href: "/admin/users", label: "Users" },
  { href: "/admin/workers", label: "Workers" },
  { href: "/admin/webhooks", label: "Webhooks" },
  { href: "/admin/service-tokens", label: "Service tokens" },
] as const;

export type AdminPage = (typeof ADMIN_PAGES)[number]["href"];

export function AdminLinks({ current }: { current: AdminPage }) {
  return (
    <>
      {ADMIN_PAGES.filter((page) => page.href !== current).map((page) => (
        <Fragment key={page.href}>
          {" "}
          <Link href={page.href}>{page.label}</Link>
        </Fragment>
      ))}
    </>
  );
}

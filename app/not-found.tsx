/** Shellroom's page for an address that leads nowhere (Next.js renders it for unknown routes and notFound()). */
import Link from "next/link";

export default function NotFound() {
  return (
    <main className="page narrow">
      <div className="card stack status-page">
        <p className="eyebrow">Error 404</p>
        <h1>This page does not exist</h1>
        <p className="muted">The link may be mistyped, or the course or lab it pointed at was removed.</p>
        <p>
          <Link href="/" className="button primary">
            Go to your courses
          </Link>
        </p>
      </div>
    </main>
  );
}

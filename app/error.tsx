"use client";
/**
 * Shellroom's page for an unexpected failure while rendering a page (Next.js's error boundary
 * below the root layout, so the site header stays). Shows no error prose to people: the
 * digest, when there is one, is what an operator looks up in the server's log.
 */
import Link from "next/link";
import { useEffect } from "react";

export default function ErrorPage({ error, retry }: { error: Error & { digest?: string }; retry: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);

  return (
    <main className="page narrow">
      <div className="card stack status-page" role="alert">
        <p className="eyebrow">Something went wrong</p>
        <h1>This page could not be shown</h1>
        <p className="muted">Your work in the lab is safe: shells and files live on the server. Try again, or go back to your courses.</p>
        {error.digest && (
          <p className="small muted">
            Reference: <code>{error.digest}</code>
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="primary" onClick={() => retry()}>
            Try again
          </button>
          <Link href="/">Go to your courses</Link>
        </div>
      </div>
    </main>
  );
}

"use client";
import { WebhooksPanel } from "../../components/webhooks-panel";
import { AdminOnly } from "../admin-only";
import { AdminLinks } from "../admin-links";

/** The webhooks that receive every course's events (a course's own are on its page, for its staff). */
export default function AdminWebhooksPage() {
  return (
    <AdminOnly title="Webhooks" refusal="Only administrators can manage webhooks for every course.">
      {() => (
        <main className="page">
          <div className="page-title">
            <h1>Webhooks</h1>
            <p className="muted">
              Receivers of every course&apos;s events; a course&apos;s staff add their own on the course page.
              <AdminLinks current="/admin/webhooks" />
            </p>
          </div>
          <WebhooksPanel courseId={null} />
        </main>
      )}
    </AdminOnly>
  );
}

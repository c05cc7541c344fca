"use client";
/**
 * Webhooks where people manage them: a course's (its staff, on the course page) or every
 * course's (administrators, on the admin page). Add one (its signing secret is shown once,
 * here), see its latest deliveries and the receiver's last answer, remove it.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { WEBHOOK_EVENTS, type WebhookEvent } from "../../common/webhook-events";
import { formErrorText } from "./errors";
import { CodeChoices } from "./code-choices";
import { ErrorAlert } from "./error-alert";
import { Field } from "./field";
import { FormSubmit } from "./form-submit";
import { TableOfRows } from "./table-of-rows";
import { useTRPC } from "../trpc";

const EVENT_HELP: Record<WebhookEvent, string> = {
  "student.joined": "a student joined the course",
  "step.passed": "a student's step check passed",
  "lab.completed": "a student passed every step of a lab",
  "environment.stopped": "a student's environment stopped (and why)",
};

const when = (date: string | Date | null) => (date ? new Date(date).toLocaleString() : "-");

function Deliveries({ webhookId }: { webhookId: string }) {
  const trpc = useTRPC();
  const deliveries = useQuery(trpc.webhook.deliveries.queryOptions({ webhookId }));
  if (deliveries.error) return <ErrorAlert text={formErrorText(deliveries.error)} />;
  if (!deliveries.data) return <p className="muted small">Reading deliveries…</p>;
  if (deliveries.data.length === 0) return <p className="muted small">Nothing sent yet.</p>;
  return (
    <TableOfRows className="table small" label="Latest deliveries" headings={["Event", "Status", "Tries", "Last answer", "Last try"]}>
      {deliveries.data.map((delivery) => (
        <tr key={delivery.id}>
          <td>
            <code>{delivery.event}</code>
          </td>
          <td>{delivery.status.toLowerCase()}</td>
          <td>{delivery.attempts}</td>
          <td>{delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : (delivery.lastError ?? "-")}</td>
          <td>{when(delivery.lastAttemptAt)}</td>
        </tr>
      ))}
    </TableOfRows>
  );
}

/** `courseId` null: the webhooks that receive every course's events (administrators only). */
export function WebhooksPanel({ courseId }: { courseId: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const webhooks = useQuery(trpc.webhook.list.queryOptions({ courseId }));
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>([]);
  const [shown, setShown] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhook.list.queryKey({ courseId }) });
  const create = useMutation(
    trpc.webhook.create.mutationOptions({
      onSuccess: () => {
        setUrl("");
        setEvents([]);
        return refresh();
      },
    }),
  );
  const remove = useMutation(trpc.webhook.remove.mutationOptions({ onSuccess: refresh }));
  const error = formErrorText(create.error ?? remove.error);

  return (
    <section className="card section" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p className="muted small">
        {courseId ? "This course's" : "Every course's"} events, sent as signed JSON (<code>Shellroom-Signature</code>, HMAC-SHA256 over the timestamp and the
        body) and retried until the receiver answers 2xx. Addresses inside private networks are refused unless the operator allows them.
      </p>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ courseId, url, events });
        }}
        aria-busy={create.isPending}
      >
        <Field label="Receiver's address">
          <input type="url" value={url} onChange={(event) => setUrl(event.target.value)} placeholder="https://lms.example.edu/hooks/shellroom" required />
        </Field>
        <CodeChoices legend="Events (none chosen: all of them)" codes={WEBHOOK_EVENTS} help={EVENT_HELP} chosen={events} onChange={setEvents} />
        <FormSubmit error={error} pending={create.isPending} label="Add the webhook" pendingLabel="Adding…" />
      </form>
      {create.data && (
        <p className="success" role="status" data-testid="webhook-secret">
          Its signing secret (copy it now, it is not shown again): <code>{create.data.secret}</code>
        </p>
      )}
      {webhooks.data && webhooks.data.length > 0 && (
        <ul className="webhook-list">
          {webhooks.data.map((webhook) => (
            <li key={webhook.id} className="webhook">
              <div className="webhook-head">
                <code className="webhook-url">{webhook.url}</code>
                <span className="muted small">{webhook.events.length > 0 ? webhook.events.join(", ") : "all events"}</span>
                <button type="button" onClick={() => setShown(shown === webhook.id ? null : webhook.id)} aria-expanded={shown === webhook.id}>
                  {shown === webhook.id ? "Hide deliveries" : "Deliveries"}
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={remove.isPending}
                  onClick={() => remove.mutate({ webhookId: webhook.id })}
                  aria-label={`Remove the webhook to ${webhook.url}`}
                >
                  Remove
                </button>
              </div>
              {shown === webhook.id && <Deliveries webhookId={webhook.id} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

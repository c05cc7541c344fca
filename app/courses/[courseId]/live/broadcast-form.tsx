"use client";
/** One message to every student of the course, shown above their terminal. */
import { useEffect, useId, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { fieldError, formErrorText } from "../../../components/errors";

/** How long "Sent" stays beside the button. */
const SENT_MS = 4000;

export function BroadcastForm({ courseId }: { courseId: string }) {
  const trpc = useTRPC();
  const inputId = useId();
  const [message, setMessage] = useState("");
  const [sentAt, setSentAt] = useState<number | null>(null);
  const broadcast = useMutation(
    trpc.live.broadcast.mutationOptions({
      onSuccess: () => {
        setMessage("");
        setSentAt(Date.now());
      },
    }),
  );

  useEffect(() => {
    if (sentAt === null) return;
    const timer = setTimeout(() => setSentAt(null), SENT_MS);
    return () => clearTimeout(timer);
  }, [sentAt]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!message.trim()) return;
    setSentAt(null);
    broadcast.mutate({ courseId, message });
  };
  const error = fieldError(broadcast.error, "message") ?? formErrorText(broadcast.error, ["message"]);

  return (
    <form className="broadcast" onSubmit={submit} aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`} className="toolbar-title">
        Broadcast
      </h2>
      <div className="broadcast-row">
        <label htmlFor={inputId} className="sr-only">
          Message to all students
        </label>
        <input
          id={inputId}
          type="text"
          value={message}
          maxLength={Bounds.broadcastMessage.max}
          autoComplete="off"
          placeholder="Message to all students, e.g. “Take a 10 minute break”"
          aria-invalid={error ? true : undefined}
          onChange={(event) => {
            setMessage(event.target.value);
            broadcast.reset();
          }}
        />
        <button type="submit" className="primary" disabled={broadcast.isPending || !message.trim()}>
          {broadcast.isPending ? "Sending…" : "Send"}
        </button>
      </div>
      <p className="broadcast-feedback" role="status">
        {sentAt !== null && <span className="saved">Sent to everyone in the course.</span>}
      </p>
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

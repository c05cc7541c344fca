"use client";
/** One message to every student of the course, shown above their terminal. */
import { useEffect, useId, useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { BroadcastInput } from "../../../../common/forms/live-room";
import { formErrorText } from "../../../components/errors";
import { showServerFieldErrors } from "../../../components/server-field-errors";

/** How long "Sent" stays beside the button. */
const SENT_MS = 4000;

export function BroadcastForm({ courseId }: { courseId: string }) {
  const trpc = useTRPC();
  const inputId = useId();
  const [sentAt, setSentAt] = useState<number | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(BroadcastInput), defaultValues: { message: "" } });
  const broadcast = useMutation(
    trpc.live.broadcast.mutationOptions({
      onSuccess: () => {
        reset();
        setSentAt(Date.now());
      },
      onError: (error) => showServerFieldErrors(setError, error, ["message"]),
    }),
  );

  useEffect(() => {
    if (sentAt === null) return;
    const timer = setTimeout(() => setSentAt(null), SENT_MS);
    return () => clearTimeout(timer);
  }, [sentAt]);

  const submit = handleSubmit(({ message }) => {
    setSentAt(null);
    broadcast.mutate({ courseId, message });
  });
  const error = errors.message?.message ?? formErrorText(broadcast.error, ["message"]);
  const blank = !useWatch({ control, name: "message" }).trim();

  return (
    <form className="broadcast" onSubmit={submit} noValidate aria-labelledby={`${inputId}-title`}>
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
          maxLength={Bounds.broadcastMessage.max}
          autoComplete="off"
          placeholder="Message to all students, e.g. “Take a 10 minute break”"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${inputId}-error` : undefined}
          {...register("message", { onChange: () => broadcast.reset() })}
        />
        <button type="submit" className="primary" disabled={broadcast.isPending || blank}>
          {broadcast.isPending ? "Sending…" : "Send"}
        </button>
      </div>
      <p className="broadcast-feedback" role="status">
        {sentAt !== null && <span className="saved">Sent to everyone in the course.</span>}
      </p>
      {error && (
        <p id={`${inputId}-error`} className="error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

"use client";
/**
 * Warm containers for the class: "Prepare for N students" fills the course's pools ahead of
 * time (bounded by the workers' room), the bar shows how many seats are ready (pooled, or a
 * student already running), and a session with a start time prepares itself in its window.
 */
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { fieldError, formErrorText } from "../../../components/errors";

const POLL_MS = 5000;

const time = (value: string | Date) => new Date(value).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

export function PreparePanel({ courseId, kind }: { courseId: string; kind?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const inputId = useId();
  const titleId = useId();
  const status = useQuery(trpc.live.preparation.queryOptions({ courseId }, { refetchInterval: POLL_MS }));
  const [typed, setTyped] = useState<string | null>(null);
  const settled = { onSuccess: () => queryClient.invalidateQueries(trpc.live.preparation.queryFilter({ courseId })) };
  const prepare = useMutation(
    trpc.live.prepare.mutationOptions({
      ...settled,
      onSuccess: async () => {
        setTyped(null);
        await settled.onSuccess();
      },
    }),
  );
  const stop = useMutation(trpc.live.stopPreparing.mutationOptions(settled));

  const data = status.data;
  const value = typed ?? (data && data.seats > 0 ? String(data.seats) : "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const seats = Number(value);
    if (!Number.isInteger(seats) || seats < Bounds.prepareSeats.min) return;
    stop.reset();
    prepare.mutate({ courseId, seats });
  };
  const error = fieldError(prepare.error, "seats") ?? formErrorText(prepare.error, ["seats"]) ?? formErrorText(stop.error);
  const session = kind === "WORKSHOP" ? "workshop" : "session";

  return (
    <section className="card prepare-panel" aria-labelledby={titleId} data-testid="prepare-panel">
      <h2 id={titleId} className="toolbar-title">
        Prepare for the class
      </h2>
      {data?.source === "schedule" && data.windowStart && data.startsAt && (
        <p className="muted small" data-testid="prepare-window">
          {data.preparing ? "Preparing" : "Prepares"} from {time(data.windowStart)} for the {time(data.startsAt)} {session}.
        </p>
      )}
      {data?.source === "manual" && data.windowEnd && (
        <p className="muted small" data-testid="prepare-window">
          Prepared by hand until {time(data.windowEnd)}.
        </p>
      )}
      <form className="prepare-row" onSubmit={submit} noValidate>
        <label htmlFor={inputId}>Prepare for</label>
        <input
          id={inputId}
          type="number"
          inputMode="numeric"
          min={Bounds.prepareSeats.min}
          max={Bounds.prepareSeats.max}
          value={value}
          className="prepare-seats"
          aria-invalid={error ? true : undefined}
          onChange={(event) => {
            setTyped(event.target.value);
            prepare.reset();
          }}
        />
        <span>students</span>
        <button type="submit" className="primary" disabled={prepare.isPending || !value}>
          {prepare.isPending ? "Preparing…" : "Prepare"}
        </button>
        {data?.preparing && (
          <button
            type="button"
            onClick={() => {
              prepare.reset();
              stop.mutate({ courseId });
            }}
            disabled={stop.isPending}
          >
            {stop.isPending ? "Stopping…" : "Stop preparing"}
          </button>
        )}
      </form>
      {data?.preparing && (
        <div className="prepare-progress">
          <progress max={data.seats} value={data.ready} aria-labelledby={`${titleId}-count`} />
          <span id={`${titleId}-count`} className="card-progress-text" role="status" data-testid="prepare-count">
            {data.ready} of {data.seats} ready{data.classReady ? " — Class ready ✓" : ""}
          </span>
        </div>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {status.error && !data && (
        <p className="error small" role="alert">
          {formErrorText(status.error) ?? "Preparation could not be loaded."}
        </p>
      )}
    </section>
  );
}

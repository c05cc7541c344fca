"use client";
/**
 * Warm containers for the class: "Prepare for N students" fills the course's pools ahead of
 * time (bounded by the workers' room), the bar shows how many seats are ready (pooled, or a
 * student already running), and a session with a start time prepares itself in its window.
 */
import { useId } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { PrepareInput } from "../../../../common/forms/live-room";
import { formErrorText } from "../../../components/errors";
import { showServerFieldErrors } from "../../../components/server-field-errors";
import { optionalNumber } from "../authoring-utils";

const POLL_MS = 5000;
/** An empty number field (what `optionalNumber` makes of ""): the schema refuses it with its own words. */
const EMPTY = null as unknown as number;

const time = (value: string | Date) => new Date(value).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

export function PreparePanel({ courseId, kind }: { courseId: string; kind?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const inputId = useId();
  const titleId = useId();
  const status = useQuery(trpc.live.preparation.queryOptions({ courseId }, { refetchInterval: POLL_MS }));
  const data = status.data;
  // Follows the preparation's seats until someone types a number of their own.
  const {
    register,
    handleSubmit,
    setError,
    reset,
    control,
    formState: { errors },
  } = useForm({
    resolver: zodResolver(PrepareInput),
    values: { seats: data && data.seats > 0 ? data.seats : EMPTY },
    resetOptions: { keepDirtyValues: true },
  });
  const settled = { onSuccess: () => queryClient.invalidateQueries(trpc.live.preparation.queryFilter({ courseId })) };
  const prepare = useMutation(
    trpc.live.prepare.mutationOptions({
      ...settled,
      onSuccess: async (_status, input) => {
        reset({ seats: input.seats });
        await settled.onSuccess();
      },
      onError: (error) => showServerFieldErrors(setError, error, ["seats"]),
    }),
  );
  const stop = useMutation(trpc.live.stopPreparing.mutationOptions(settled));

  const submit = handleSubmit(({ seats }) => {
    stop.reset();
    prepare.mutate({ courseId, seats });
  });
  const error = errors.seats?.message ?? formErrorText(prepare.error, ["seats"]) ?? formErrorText(stop.error);
  const errorId = `${inputId}-error`;
  const seats = useWatch({ control, name: "seats" });
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
          className="prepare-seats"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          {...register("seats", { setValueAs: optionalNumber, onChange: () => prepare.reset() })}
        />
        <span>students</span>
        <button type="submit" className="primary" disabled={prepare.isPending || seats === null}>
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
        <p id={errorId} className="error small" role="alert">
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

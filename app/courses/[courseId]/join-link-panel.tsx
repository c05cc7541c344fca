"use client";
/** Course staff: the workshop join link, its state, and the switches that govern it. */
import { useRef, useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { JoinLinkSettings } from "../../../common/forms/join-links";
import { formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { FormSubmit } from "../../components/form-submit";
import { showServerFieldErrors } from "../../components/server-field-errors";
import { formatWhen, optionalNumber, toLocalInput } from "./authoring-utils";

const STATUS_LABELS = { open: "Open", disabled: "Turned off", expired: "Expired", full: "Full" } as const;
const FIELDS = ["enabled", "expiresAt", "seatLimit"] as const;

export function JoinLinkPanel({ courseId }: { courseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const link = useQuery(trpc.course.joinLink.queryOptions({ courseId }));
  const [notice, setNotice] = useState<string | null>(null);
  const invalidate = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.course.joinLink.queryKey({ courseId }) }),
      queryClient.invalidateQueries({ queryKey: trpc.course.members.queryKey({ courseId }) }),
    ]);
  const rotate = useMutation(
    trpc.course.rotateJoinLink.mutationOptions({
      onMutate: () => setNotice(null),
      onSuccess: async () => {
        await invalidate();
        setNotice("A new link is ready. The old one no longer works: share this one instead.");
      },
    }),
  );

  const loadError = formErrorText(link.error);
  const rotateError = formErrorText(rotate.error);
  const data = link.data;
  const url = data && typeof window !== "undefined" ? `${window.location.origin}/join/${data.code}` : "";

  const confirmRotate = () => {
    if (window.confirm("Make a new join link? The current link stops working at once; anyone who has not joined yet needs the new one.")) {
      rotate.mutate({ courseId });
    }
  };

  return (
    <section className="card section join-panel" aria-labelledby="join-heading" data-testid="join-link-panel">
      <div className="section-head">
        <h2 id="join-heading">Workshop join link</h2>
        {data && (
          <span className={`status-pill ${data.status}`} data-testid="join-status" data-status={data.status}>
            {STATUS_LABELS[data.status]}
          </span>
        )}
      </div>
      <p className="muted small">Anyone with this link can type a name and get a terminal in this course’s first lab, no account needed.</p>
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      {link.isLoading && <p className="muted">Loading the join link…</p>}
      {data && (
        <>
          <CopyableLink url={url} />
          {data.message && (
            <p className="notice warn" role="status" data-testid="join-message">
              <span className="notice-label">Visitors opening the link see</span>
              {data.message}
            </p>
          )}
          <ul className="join-facts">
            <li>
              <strong>{data.seatsTaken}</strong> student{data.seatsTaken === 1 ? "" : "s"} joined
              {data.seatLimit !== null ? (
                <>
                  {" "}
                  of <strong>{data.seatLimit}</strong> seats
                </>
              ) : (
                <> · no seat limit</>
              )}
            </li>
            <li>
              {data.expiresAt ? (
                <>
                  {new Date(data.expiresAt) <= new Date() ? "Expired" : "Expires"} {formatWhen(data.expiresAt)}
                </>
              ) : (
                "No expiry"
              )}
            </li>
          </ul>
          <JoinLinkForm
            key={`${data.enabled}|${String(data.expiresAt)}|${data.seatLimit}`}
            courseId={courseId}
            enabled={data.enabled}
            expiresAt={data.expiresAt}
            seatLimit={data.seatLimit}
            onSaved={async () => {
              await invalidate();
              setNotice("Saved. The link follows the new settings at once.");
            }}
            onEdit={() => setNotice(null)}
          />
          {notice && (
            <p className="success" role="status">
              {notice}
            </p>
          )}
          <div className="danger-zone">
            <div>
              <strong>Rotate link</strong>
              <p className="muted small">Replace the code, for example when the link was shared too widely. Students who joined keep their place.</p>
              {rotateError && (
                <p className="error" role="alert">
                  {rotateError}
                </p>
              )}
            </div>
            <button type="button" className="secondary" onClick={confirmRotate} disabled={rotate.isPending}>
              {rotate.isPending ? "Rotating…" : "Rotate link"}
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function CopyableLink({ url }: { url: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<"idle" | "copied" | "manual">("idle");
  const doCopy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopy("copied");
    } catch {
      // No clipboard access (e.g. plain HTTP on another host): select it for Ctrl+C.
      input.current?.select();
      setCopy("manual");
    }
  };
  return (
    <div className="copy-row">
      <input ref={input} readOnly value={url} aria-label="Join link" data-testid="join-url" onFocus={(e) => e.target.select()} />
      <button type="button" className="secondary" onClick={doCopy}>
        {copy === "copied" ? "Copied ✓" : "Copy"}
      </button>
      <span className="sr-only" role="status">
        {copy === "copied" ? "Link copied" : copy === "manual" ? "Press Ctrl+C to copy the selected link" : ""}
      </span>
      {copy === "manual" && <span className="field-hint">Copying is blocked here: the link is selected, press Ctrl+C.</span>}
    </div>
  );
}

function JoinLinkForm({
  courseId,
  enabled,
  expiresAt,
  seatLimit,
  onSaved,
  onEdit,
}: {
  courseId: string;
  enabled: boolean;
  expiresAt: string | Date | null;
  seatLimit: number | null;
  onSaved: () => Promise<void>;
  onEdit: () => void;
}) {
  const trpc = useTRPC();
  const {
    register,
    handleSubmit,
    setError,
    setValue,
    control,
    formState: { errors },
  } = useForm({
    resolver: zodResolver(JoinLinkSettings),
    // The expiry stays as the field holds it (local time); the schema turns it into an instant here, in the browser.
    defaultValues: { enabled, expiresAt: toLocalInput(expiresAt), seatLimit },
  });
  const save = useMutation(
    trpc.course.updateJoinLink.mutationOptions({ onSuccess: onSaved, onError: (error) => showServerFieldErrors(setError, error, FIELDS) }),
  );
  const expiry = useWatch({ control, name: "expiresAt" });
  const general = formErrorText(save.error, FIELDS);
  const edited = () => {
    onEdit();
    if (save.isSuccess) save.reset();
  };

  return (
    <form className="form join-form" onSubmit={handleSubmit((values) => save.mutate({ courseId, ...values }))} noValidate aria-busy={save.isPending}>
      <label className="switch">
        <input type="checkbox" {...register("enabled", { onChange: edited })} />
        <span>Link enabled</span>
      </label>
      <div className="form-row">
        <Field label="Expires at" error={errors.expiresAt?.message} hint="Empty: never expires.">
          <input type="datetime-local" {...register("expiresAt", { onChange: edited })} />
        </Field>
        <Field label="Seat limit" error={errors.seatLimit?.message} hint="Empty: no limit. Counts students only.">
          <input
            type="number"
            min={Bounds.joinSeatLimit.min}
            max={Bounds.joinSeatLimit.max}
            step={1}
            inputMode="numeric"
            {...register("seatLimit", { setValueAs: optionalNumber, onChange: edited })}
          />
        </Field>
      </div>
      <FormSubmit error={general} pending={save.isPending} label="Save link settings" pendingLabel="Saving…">
        {Boolean(expiry) && (
          <button
            type="button"
            className="link-button subtle"
            onClick={() => {
              setValue("expiresAt", "", { shouldDirty: true, shouldValidate: Boolean(errors.expiresAt) });
              edited();
            }}
          >
            Clear expiry
          </button>
        )}
      </FormSubmit>
    </form>
  );
}

"use client";
/** Course staff: the workshop join link, its state, and the switches that govern it. */
import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { fieldError, formErrorText } from "../../components/errors";
import { Field } from "../../components/field";

const STATUS_LABELS = { open: "Open", disabled: "Turned off", expired: "Expired", full: "Full" } as const;

const pad = (value: number) => String(value).padStart(2, "0");

/** A Date as a `datetime-local` value in the browser's time zone. */
function toLocalInput(value: string | Date | null): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const formatWhen = (value: string | Date) => new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

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
  enabled: initialEnabled,
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
  const [enabled, setEnabled] = useState(initialEnabled);
  const [expiry, setExpiry] = useState(toLocalInput(expiresAt));
  const [seats, setSeats] = useState(seatLimit === null ? "" : String(seatLimit));
  const [localErrors, setLocalErrors] = useState<{ expiresAt?: string; seatLimit?: string }>({});
  const save = useMutation(trpc.course.updateJoinLink.mutationOptions({ onSuccess: onSaved }));
  const error = save.error;
  const general = formErrorText(error, ["enabled", "expiresAt", "seatLimit"]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: typeof localErrors = {};
    let expiryDate: Date | null = null;
    if (expiry) {
      expiryDate = new Date(expiry);
      if (Number.isNaN(expiryDate.getTime())) problems.expiresAt = "Enter a full date and time, or leave it empty for no expiry";
    }
    let limit: number | null = null;
    if (seats.trim() !== "") {
      limit = Number(seats);
      if (!Number.isInteger(limit)) problems.seatLimit = "Enter a whole number of seats, or leave it empty for no limit";
    }
    setLocalErrors(problems);
    if (Object.keys(problems).length > 0) return save.reset();
    save.mutate({ courseId, enabled, expiresAt: expiryDate ? expiryDate.toISOString() : null, seatLimit: limit });
  };
  const edited = () => {
    onEdit();
    if (save.isSuccess) save.reset();
  };

  const expiryError = localErrors.expiresAt ?? fieldError(error, "expiresAt");
  const seatError = localErrors.seatLimit ?? fieldError(error, "seatLimit");
  return (
    <form className="form join-form" onSubmit={submit} noValidate aria-busy={save.isPending}>
      <label className="switch">
        <input
          type="checkbox"
          name="enabled"
          checked={enabled}
          onChange={(e) => {
            setEnabled(e.target.checked);
            edited();
          }}
        />
        <span>Link enabled</span>
      </label>
      <div className="form-row">
        <Field label="Expires at" error={expiryError} hint="Empty: never expires.">
          <input
            type="datetime-local"
            name="expiresAt"
            value={expiry}
            onChange={(e) => {
              setExpiry(e.target.value);
              edited();
            }}
            aria-invalid={Boolean(expiryError)}
          />
        </Field>
        <Field label="Seat limit" error={seatError} hint="Empty: no limit. Counts students only.">
          <input
            type="number"
            name="seatLimit"
            min={Bounds.joinSeatLimit.min}
            max={Bounds.joinSeatLimit.max}
            step={1}
            inputMode="numeric"
            value={seats}
            onChange={(e) => {
              setSeats(e.target.value);
              edited();
            }}
            aria-invalid={Boolean(seatError)}
          />
        </Field>
      </div>
      {general && (
        <p className="error" role="alert">
          {general}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save link settings"}
        </button>
        {expiry && (
          <button
            type="button"
            className="link-button subtle"
            onClick={() => {
              setExpiry("");
              edited();
            }}
          >
            Clear expiry
          </button>
        )}
      </div>
    </form>
  );
}

"use client";
/**
 * The student's "I need help" button: raises a hand (with an optional note) in the course's
 * live room, where the instructor sees a queue. Polls, because staff lower hands too.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { RaiseHandInput } from "../../../common/forms/live-room";
import { formErrorText } from "../../components/errors";
import { showServerFieldErrors } from "../../components/server-field-errors";

const POLL_MS = 10_000;

export function RaiseHand({ labId }: { labId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const noteId = useId();
  const popoverId = useId();
  const [open, setOpen] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(RaiseHandInput), defaultValues: { note: "" } });
  const note = useWatch({ control, name: "note" }) ?? "";
  // Set when this page lowered the hand, so a hand that vanishes otherwise reads as answered.
  const loweredHere = useRef(false);
  const [answered, setAnswered] = useState(false);
  const toggleRef = useRef<HTMLButtonElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);

  const myHandKey = trpc.live.myHand.queryKey({ labId });
  const hand = useQuery(trpc.live.myHand.queryOptions({ labId }, { refetchInterval: POLL_MS }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: myHandKey });
  const raise = useMutation(
    trpc.live.raiseHand.mutationOptions({
      onSuccess: (raised) => {
        queryClient.setQueryData(myHandKey, raised);
        loweredHere.current = false;
        setAnswered(false);
        close();
      },
      onError: (error) => showServerFieldErrors(setError, error, ["note"]),
      onSettled: refresh,
    }),
  );
  const lower = useMutation(
    trpc.live.lowerHand.mutationOptions({
      onMutate: () => {
        loweredHere.current = true;
      },
      onSuccess: () => queryClient.setQueryData(myHandKey, null),
      onSettled: refresh,
    }),
  );

  const current = hand.data ?? null;
  const previous = useRef(current);
  useEffect(() => {
    if (previous.current && !current && !loweredHere.current) setAnswered(true);
    if (current) setAnswered(false);
    previous.current = current;
  }, [current]);

  // A click anywhere else closes the popover, as menus do.
  useEffect(() => {
    if (!open) return;
    const outside = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  function close() {
    setOpen(false);
    toggleRef.current?.focus();
  }
  const submit = handleSubmit(({ note }) => raise.mutate({ labId, note }));
  const noteError = errors.note?.message;
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  };

  if (current) {
    return (
      <div className="raise-hand raised" data-testid="raise-hand" data-state="raised">
        <p className="raise-hand-status" role="status">
          <span className="raise-hand-emoji" aria-hidden="true">
            ✋
          </span>{" "}
          <strong>Hand raised</strong>
          <span className="raise-hand-wait"> · an instructor will come to you</span>
        </p>
        {current.note && <p className="raise-hand-note">“{current.note}”</p>}
        {lower.error && (
          <p className="error small" role="alert">
            {formErrorText(lower.error)}
          </p>
        )}
        <button type="button" className="secondary raise-hand-button" onClick={() => lower.mutate({ labId })} disabled={lower.isPending}>
          {lower.isPending ? "Lowering…" : "Lower hand"}
        </button>
      </div>
    );
  }

  return (
    <div className="raise-hand" ref={rootRef} data-testid="raise-hand" data-state="down" onKeyDown={onKeyDown}>
      <button
        type="button"
        ref={toggleRef}
        className="secondary raise-hand-button"
        aria-expanded={open}
        aria-controls={popoverId}
        onClick={() => {
          setOpen(!open);
          raise.reset();
        }}
        title="Ask your instructor for help"
      >
        <span className="raise-hand-emoji" aria-hidden="true">
          ✋{" "}
        </span>
        Raise hand
      </button>
      {answered && !open && (
        <p className="raise-hand-answered muted small" role="status">
          Your hand was lowered by an instructor.
        </p>
      )}
      {open && (
        <form id={popoverId} className="raise-hand-popover" role="dialog" aria-label="Ask for help" onSubmit={submit} noValidate>
          <label htmlFor={noteId} className="raise-hand-label">
            What do you need help with?
          </label>
          <textarea
            id={noteId}
            maxLength={Bounds.handNote.max}
            rows={3}
            autoFocus
            placeholder="e.g. My check for step 2 keeps failing"
            aria-invalid={noteError ? true : undefined}
            aria-describedby={`${noteId}-count`}
            {...register("note")}
          />
          <p id={`${noteId}-count`} className={noteError ? "error small" : "raise-hand-count muted"}>
            {noteError ?? `Optional · ${note.length}/${Bounds.handNote.max}`}
          </p>
          {raise.error && !noteError && (
            <p className="error small" role="alert">
              {formErrorText(raise.error, ["note"]) ?? "Your hand could not be raised. Try again."}
            </p>
          )}
          <div className="raise-hand-actions">
            <button type="button" className="secondary" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={raise.isPending}>
              {raise.isPending ? "Sending…" : "Send to instructor"}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

"use client";
/**
 * The workshop join link: open it, type a name, get a terminal. No password; this
 * browser's session brings the same student back.
 */
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { JoinInput } from "../../../common/forms/join-links";
import { fieldError, formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { FormSubmit } from "../../components/form-submit";
import { showServerFieldErrors } from "../../components/server-field-errors";
import { SingleSignOn } from "../../components/single-sign-on";

const FIELDS = ["displayName", "email"] as const;
const labPath = (labId: string | null) => (labId ? `/labs/${labId}` : "/");

export default function JoinPage() {
  const { code: rawCode } = useParams<{ code: string }>();
  const code = decodeURIComponent(rawCode ?? "");
  const trpc = useTRPC();
  const preview = useQuery(trpc.join.preview.queryOptions({ code }));

  if (preview.error) {
    const message = fieldError(preview.error, "code") ?? formErrorText(preview.error) ?? "This join link could not be opened.";
    return (
      <main className="page narrow">
        <h1>Join a workshop</h1>
        <div className="card">
          <p className="notice warn" role="alert">
            {message}
          </p>
          <p className="muted small">
            Already have an account? <Link href="/sign-in">Sign in</Link> to see your courses.
          </p>
        </div>
      </main>
    );
  }
  if (!preview.data)
    return (
      <main className="page narrow">
        <p className="muted">Opening the join link…</p>
      </main>
    );

  const { courseTitle, description, status, message, alreadyMember, firstLabId, signedInAs } = preview.data;
  return (
    <main className="page narrow">
      <p className="eyebrow">Workshop</p>
      <h1>{courseTitle}</h1>
      {description && <p className="lead">{description}</p>}
      <div className="card">
        {alreadyMember ? (
          <div className="stack">
            <p>
              You have joined this workshop
              {signedInAs ? (
                <>
                  {" "}
                  as <strong>{signedInAs}</strong>
                </>
              ) : null}
              . Your terminal and files are waiting.
            </p>
            <Link className="button primary" href={labPath(firstLabId)}>
              {firstLabId ? "Continue to the lab" : "Continue to your courses"}
            </Link>
          </div>
        ) : status !== "open" ? (
          <p className="notice warn" role="alert">
            {message ?? "This join link is not open."}
          </p>
        ) : (
          <JoinForm code={code} firstLabId={firstLabId} signedInAs={signedInAs} />
        )}
      </div>
    </main>
  );
}

function JoinForm({ code, firstLabId, signedInAs }: { code: string; firstLabId: string | null; signedInAs: string | null }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(JoinInput), defaultValues: { code, displayName: "", email: "" } });
  const join = useMutation(
    trpc.join.join.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries();
        router.push(labPath(result.firstLabId ?? firstLabId));
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
    }),
  );
  const error = join.error;
  const general = formErrorText(error, signedInAs ? [] : FIELDS);
  const joinPath = `/join/${encodeURIComponent(code)}`;

  if (signedInAs) {
    // Already signed in: join with this account, no new student is created.
    return (
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          join.mutate({ code, displayName: signedInAs });
        }}
        aria-busy={join.isPending}
      >
        <p>
          You are signed in as <strong>{signedInAs}</strong>. Join this workshop with your account?
        </p>
        <FormSubmit error={general} pending={join.isPending} label={`Join as ${signedInAs}`} pendingLabel="Joining…" />
      </form>
    );
  }

  return (
    <form className="form" onSubmit={handleSubmit((values) => join.mutate(values))} noValidate aria-busy={join.isPending}>
      <p className="muted small">No account needed: type a name and you get your own Linux terminal. This browser keeps you signed in.</p>
      <Field label="Your name" error={errors.displayName?.message} hint="Shown to your instructor.">
        <input {...register("displayName")} autoComplete="name" required maxLength={Bounds.displayName.max} autoFocus />
      </Field>
      <Field
        label={
          <>
            Email <span className="optional">(optional)</span>
          </>
        }
        error={errors.email?.message}
        hint="Lets you set a password later and keep your work."
      >
        <input {...register("email")} type="email" autoComplete="email" />
      </Field>
      <FormSubmit error={general} pending={join.isPending} label="Join and open the lab" pendingLabel="Joining…" />
      <p className="muted small">
        Have an account? <Link href={`/sign-in?next=${encodeURIComponent(joinPath)}`}>Sign in</Link> first, and you come back here.
      </p>
      {/* Single sign-on brings the student back to this link, signed in, to join with that account. */}
      <SingleSignOn next={joinPath} />
    </form>
  );
}

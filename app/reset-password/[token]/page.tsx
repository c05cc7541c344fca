"use client";
/** A one-time reset link (made by an administrator or mailed): choose a new password, then sign in. */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { PasswordResetForm } from "../../../common/forms/accounts";
import { formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { FormSubmit } from "../../components/form-submit";
import { QueryFallback } from "../../components/query-fallback";
import { showServerFieldErrors } from "../../components/server-field-errors";

const FIELDS = ["password", "confirm"] as const;

export default function ResetPasswordPage() {
  const { token: rawToken } = useParams<{ token: string }>();
  const token = decodeURIComponent(rawToken ?? "");
  const trpc = useTRPC();
  const status = useQuery(trpc.auth.passwordResetStatus.queryOptions({ token }, { retry: false }));

  return (
    <main className="page narrow">
      <h1>Choose a new password</h1>
      {status.data ? (
        status.data.usable ? (
          <ResetForm token={token} />
        ) : (
          <p className="notice warn" role="alert">
            This reset link has expired or was used already. Ask for a new one on the <Link href="/sign-in">sign-in page</Link>, or from an administrator.
          </p>
        )
      ) : (
        <QueryFallback query={status} loading="Checking the link…" failed="This reset link is not complete or not valid. Copy the whole link." />
      )}
    </main>
  );
}

function ResetForm({ token }: { token: string }) {
  const trpc = useTRPC();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(PasswordResetForm), defaultValues: { token, password: "", confirm: "" } });
  const reset = useMutation(trpc.auth.resetPassword.mutationOptions({ onError: (error) => showServerFieldErrors(setError, error, FIELDS) }));
  const general = formErrorText(reset.error, FIELDS);

  if (reset.isSuccess)
    return (
      <div className="card stack">
        <p role="status">Your password is set, and every browser that was signed in to your account is signed out.</p>
        <Link className="button primary" href="/sign-in">
          Sign in
        </Link>
      </div>
    );
  return (
    <form className="card form" onSubmit={handleSubmit(({ password }) => reset.mutate({ token, password }))} noValidate aria-busy={reset.isPending}>
      <Field label="New password" error={errors.password?.message}>
        <input {...register("password")} type="password" autoComplete="new-password" required autoFocus />
      </Field>
      <Field label="The same password again" error={errors.confirm?.message}>
        <input {...register("confirm")} type="password" autoComplete="new-password" required />
      </Field>
      <FormSubmit error={general} pending={reset.isPending} label="Set the new password" pendingLabel="Saving…" />
    </form>
  );
}

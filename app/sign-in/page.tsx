"use client";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { PasswordResetRequestInput, SignInInput } from "../../common/forms/accounts";
import { sameOriginPath } from "../../common/same-origin-path";
import { formErrorText } from "../components/errors";
import { Field } from "../components/field";
import { FormSubmit } from "../components/form-submit";
import { showServerFieldErrors } from "../components/server-field-errors";
import { SingleSignOn, SSO_ERROR_TEXT } from "../components/single-sign-on";

const FIELDS = ["email", "password"] as const;

export default function SignInPage() {
  return (
    <Suspense>
      <SignIn />
    </Suspense>
  );
}

function SignIn() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const params = useSearchParams();
  // Where single sign-on or a join link sent the person from; only a path on this site.
  const next = sameOriginPath(params.get("next"));
  const ssoError = params.get("sso_error");
  const options = useQuery(trpc.auth.signInOptions.queryOptions(undefined, { staleTime: Infinity }));
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(SignInInput), defaultValues: { email: "", password: "" } });
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push(next);
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
    }),
  );
  const general = formErrorText(signIn.error, FIELDS);

  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      {ssoError && (
        <p className="notice warn" role="alert">
          {SSO_ERROR_TEXT[ssoError] ?? SSO_ERROR_TEXT.refused}
        </p>
      )}
      <SingleSignOn next={next} />
      <form className="card form" onSubmit={handleSubmit((values) => signIn.mutate(values))} noValidate aria-busy={signIn.isPending}>
        <Field label="Email" error={errors.email?.message}>
          <input {...register("email")} type="email" autoComplete="username" required />
        </Field>
        <Field label="Password" error={errors.password?.message}>
          <input {...register("password")} type="password" autoComplete="current-password" required />
        </Field>
        <FormSubmit error={general} pending={signIn.isPending} label="Sign in" pendingLabel="Signing in…" />
      </form>
      {options.data?.passwordResetByEmail && <ForgotPassword />}
      <p className="auth-switch">
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </main>
  );
}

/** Asks for a reset link by email; the answer is the same whether or not the email has an account. */
function ForgotPassword() {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(PasswordResetRequestInput), defaultValues: { email: "" } });
  const request = useMutation(trpc.auth.requestPasswordReset.mutationOptions({ onError: (error) => showServerFieldErrors(setError, error, ["email"]) }));
  const general = formErrorText(request.error, ["email"]);

  if (!open)
    return (
      <p className="auth-switch">
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          Forgot your password?
        </button>
      </p>
    );
  if (request.isSuccess)
    return (
      <p className="notice info" role="status">
        If an account uses that email, a link to choose a new password is on its way. It works once, for an hour.
      </p>
    );
  return (
    <form className="card form" onSubmit={handleSubmit((values) => request.mutate(values))} noValidate aria-busy={request.isPending}>
      <Field label="Email for the reset link" error={errors.email?.message}>
        <input {...register("email")} type="email" autoComplete="email" required autoFocus />
      </Field>
      <FormSubmit error={general} pending={request.isPending} label="Send me a reset link" pendingLabel="Sending…" />
    </form>
  );
}

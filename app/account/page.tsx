"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { Bounds } from "../../common/input-bounds";
import { CredentialsForm as CredentialsSchema } from "../../common/forms/accounts";
import { formErrorText } from "../components/errors";
import { Field } from "../components/field";
import { QueryFallback } from "../components/query-fallback";
import { showServerFieldErrors } from "../components/server-field-errors";
import { ApiTokens } from "./api-tokens";

const ROLE_NAMES = { ADMIN: "Administrator", INSTRUCTOR: "Instructor", STUDENT: "Student" } as const;

export default function AccountPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const [savedEmail, setSavedEmail] = useState<string | null>(null);
  const signOutEverywhere = useMutation(
    trpc.auth.signOutEverywhere.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/sign-in");
      },
    }),
  );

  useEffect(() => {
    if (me.isSuccess && !me.data) router.replace("/sign-in");
  }, [me.isSuccess, me.data, router]);

  if (!me.data)
    return (
      <main className="page narrow">
        <QueryFallback query={me} loading="Loading…" />
      </main>
    );
  const user = me.data;
  const signOutError = formErrorText(signOutEverywhere.error);

  return (
    <main className="page narrow">
      <h1>Your account</h1>
      <section className="card">
        <dl className="facts">
          <dt>Name</dt>
          <dd data-testid="account-name">{user.displayName}</dd>
          <dt>Email</dt>
          <dd data-testid="account-email">{user.email ?? <span className="muted">none yet</span>}</dd>
          <dt>Role</dt>
          <dd>{ROLE_NAMES[user.role]}</dd>
        </dl>
      </section>

      <section className="card section">
        {user.hasPassword ? (
          <>
            <h2>Change email or password</h2>
            <p className="muted small">Other browsers signed in to this account are signed out when you save; this one stays signed in.</p>
          </>
        ) : (
          <>
            <h2>Keep this account</h2>
            <p className="notice info">
              You joined with a workshop link, so this browser is your only way back in. Set an email and password to keep this account and sign in from
              anywhere.
            </p>
          </>
        )}
        <CredentialsForm currentEmail={user.email} hasPassword={user.hasPassword} onSaved={setSavedEmail} />
        {savedEmail && (
          <p className="success" role="status">
            Saved. You can now sign in with {savedEmail} and your password.
          </p>
        )}
      </section>

      <ApiTokens />

      <section className="card section">
        <h2>Sessions</h2>
        <p className="muted small">Signs this account out in every browser, including this one, and closes open terminals.</p>
        {signOutError && (
          <p className="error" role="alert">
            {signOutError}
          </p>
        )}
        <button type="button" className="danger" disabled={signOutEverywhere.isPending} onClick={() => signOutEverywhere.mutate()}>
          {signOutEverywhere.isPending ? "Signing out…" : "Sign out everywhere"}
        </button>
      </section>
    </main>
  );
}

const CREDENTIAL_FIELDS = ["email", "password", "currentPassword"] as const;

function CredentialsForm({
  currentEmail,
  hasPassword,
  onSaved,
}: {
  currentEmail: string | null;
  hasPassword: boolean;
  onSaved: (email: string | null) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    resetField,
    formState: { errors },
  } = useForm({
    resolver: zodResolver(CredentialsSchema),
    defaultValues: { email: currentEmail ?? "", password: "", confirm: "", currentPassword: "" },
  });
  const save = useMutation(
    trpc.auth.setCredentials.mutationOptions({
      onSuccess: async (_result, input) => {
        for (const field of ["password", "confirm", "currentPassword"] as const) resetField(field);
        onSaved(input.email);
        await queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
      },
      onError: (error) => showServerFieldErrors(setError, error, CREDENTIAL_FIELDS),
    }),
  );
  const general = formErrorText(save.error, CREDENTIAL_FIELDS);

  const submit = handleSubmit(({ email, password, currentPassword }) => save.mutate(hasPassword ? { email, password, currentPassword } : { email, password }));

  return (
    <form
      className="form"
      onSubmit={(event) => {
        onSaved(null);
        save.reset();
        return submit(event);
      }}
      noValidate
      aria-busy={save.isPending}
    >
      <Field label="Email" error={errors.email?.message}>
        <input {...register("email")} type="email" autoComplete="email" required />
      </Field>
      {hasPassword && (
        <Field label="Current password" error={errors.currentPassword?.message}>
          <input {...register("currentPassword")} type="password" autoComplete="current-password" required />
        </Field>
      )}
      <Field label={hasPassword ? "New password" : "Password"} error={errors.password?.message} hint="At least 10 characters.">
        <input {...register("password")} type="password" autoComplete="new-password" required minLength={Bounds.password.min} />
      </Field>
      <Field label="Confirm password" error={errors.confirm?.message}>
        <input {...register("confirm")} type="password" autoComplete="new-password" required />
      </Field>
      {general && (
        <p className="error" role="alert">
          {general}
        </p>
      )}
      <button type="submit" className="primary" disabled={save.isPending}>
        {save.isPending ? "Saving…" : hasPassword ? "Save changes" : "Keep my account"}
      </button>
    </form>
  );
}

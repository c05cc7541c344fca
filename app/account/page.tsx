"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { Bounds } from "../../common/input-bounds";
import { fieldError, formErrorText } from "../components/errors";
import { Field } from "../components/field";

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

  if (me.error)
    return (
      <main className="page narrow">
        <p className="error" role="alert">
          {formErrorText(me.error)}
        </p>
      </main>
    );
  if (!me.data)
    return (
      <main className="page narrow">
        <p className="muted">Loading…</p>
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
  const [email, setEmail] = useState(currentEmail ?? "");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [currentPassword, setCurrentPassword] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const save = useMutation(
    trpc.auth.setCredentials.mutationOptions({
      onSuccess: async () => {
        setPassword("");
        setConfirm("");
        setCurrentPassword("");
        onSaved(email.trim().toLowerCase());
        await queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
      },
    }),
  );
  const error = save.error;
  const general = formErrorText(error, ["email", "password", "currentPassword"]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSaved(null);
    if (password !== confirm) {
      setMismatch(true);
      save.reset();
      return;
    }
    setMismatch(false);
    save.mutate(hasPassword ? { email, password, currentPassword } : { email, password });
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-busy={save.isPending}>
      <Field label="Email" error={fieldError(error, "email")}>
        <input
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          aria-invalid={Boolean(fieldError(error, "email"))}
        />
      </Field>
      {hasPassword && (
        <Field label="Current password" error={fieldError(error, "currentPassword")}>
          <input
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrentPassword(e.target.value)}
            required
            aria-invalid={Boolean(fieldError(error, "currentPassword"))}
          />
        </Field>
      )}
      <Field label={hasPassword ? "New password" : "Password"} error={fieldError(error, "password")} hint="At least 10 characters.">
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          minLength={Bounds.password.min}
          aria-invalid={Boolean(fieldError(error, "password"))}
        />
      </Field>
      <Field label="Confirm password" error={mismatch ? "The two passwords are not the same" : undefined}>
        <input
          name="confirm"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          required
          aria-invalid={mismatch}
        />
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

"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { Bounds } from "../../common/input-bounds";
import { fieldError, formErrorText } from "../components/errors";
import { Field } from "../components/field";

const FIELDS = ["displayName", "email", "password"] as const;

export default function SignUpPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/");
      },
    }),
  );
  const error = signUp.error;
  const general = formErrorText(error, FIELDS);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signUp.mutate({ displayName, email, password });
  };

  return (
    <main className="page narrow">
      <h1>Create an account</h1>
      <form className="card form" onSubmit={submit} noValidate aria-busy={signUp.isPending}>
        <Field label="Display name" error={fieldError(error, "displayName")} hint="Shown to your instructors and classmates.">
          <input
            name="displayName"
            autoComplete="name"
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
            required
            maxLength={Bounds.displayName.max}
            aria-invalid={Boolean(fieldError(error, "displayName"))}
          />
        </Field>
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
        <Field label="Password" error={fieldError(error, "password")} hint="At least 10 characters.">
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
        {general && (
          <p className="error" role="alert">
            {general}
          </p>
        )}
        <button type="submit" className="primary" disabled={signUp.isPending}>
          {signUp.isPending ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p className="auth-switch">
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}

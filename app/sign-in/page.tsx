"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { fieldError, formErrorText } from "../components/errors";
import { Field } from "../components/field";

const FIELDS = ["email", "password"] as const;

export default function SignInPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/");
      },
    }),
  );
  const error = signIn.error;
  const general = formErrorText(error, FIELDS);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password });
  };

  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <form className="card form" onSubmit={submit} noValidate aria-busy={signIn.isPending}>
        <Field label="Email" error={fieldError(error, "email")}>
          <input
            name="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            aria-invalid={Boolean(fieldError(error, "email"))}
          />
        </Field>
        <Field label="Password" error={fieldError(error, "password")}>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            aria-invalid={Boolean(fieldError(error, "password"))}
          />
        </Field>
        {general && (
          <p className="error" role="alert">
            {general}
          </p>
        )}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="auth-switch">
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </main>
  );
}

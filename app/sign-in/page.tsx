"use client";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";

export default function SignInPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      router.push("/");
    },
  }));
  const fieldErrors = signIn.error?.data?.zodError?.fieldErrors as Record<string, string[] | undefined> | undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password });
  };

  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <form className="card form" onSubmit={submit} noValidate>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
          {fieldErrors?.email && <span className="field-error">{fieldErrors.email[0]}</span>}
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          {fieldErrors?.password && <span className="field-error">{fieldErrors.password[0]}</span>}
        </label>
        {signIn.error && !fieldErrors && <p className="error" role="alert">{signIn.error.message}</p>}
        <button type="submit" className="primary" disabled={signIn.isPending}>{signIn.isPending ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}

"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { SignInInput } from "../../common/forms/accounts";
import { formErrorText } from "../components/errors";
import { Field } from "../components/field";
import { showServerFieldErrors } from "../components/server-field-errors";

const FIELDS = ["email", "password"] as const;

export default function SignInPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
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
        router.push("/");
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
    }),
  );
  const general = formErrorText(signIn.error, FIELDS);

  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <form className="card form" onSubmit={handleSubmit((values) => signIn.mutate(values))} noValidate aria-busy={signIn.isPending}>
        <Field label="Email" error={errors.email?.message}>
          <input {...register("email")} type="email" autoComplete="username" required />
        </Field>
        <Field label="Password" error={errors.password?.message}>
          <input {...register("password")} type="password" autoComplete="current-password" required />
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

"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { Bounds } from "../../common/input-bounds";
import { SignUpInput } from "../../common/forms/accounts";
import { formErrorText } from "../components/errors";
import { Field } from "../components/field";
import { FormSubmit } from "../components/form-submit";
import { showServerFieldErrors } from "../components/server-field-errors";

const FIELDS = ["displayName", "email", "password"] as const;

export default function SignUpPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(SignUpInput), defaultValues: { displayName: "", email: "", password: "" } });
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/");
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
    }),
  );
  const general = formErrorText(signUp.error, FIELDS);

  return (
    <main className="page narrow">
      <h1>Create an account</h1>
      <form className="card form" onSubmit={handleSubmit((values) => signUp.mutate(values))} noValidate aria-busy={signUp.isPending}>
        <Field label="Display name" error={errors.displayName?.message} hint="Shown to your instructors and classmates.">
          <input {...register("displayName")} autoComplete="name" required maxLength={Bounds.displayName.max} />
        </Field>
        <Field label="Email" error={errors.email?.message}>
          <input {...register("email")} type="email" autoComplete="email" required />
        </Field>
        <Field label="Password" error={errors.password?.message} hint="At least 10 characters.">
          <input {...register("password")} type="password" autoComplete="new-password" required minLength={Bounds.password.min} />
        </Field>
        <FormSubmit error={general} pending={signUp.isPending} label="Create account" pendingLabel="Creating your account…" />
      </form>
      <p className="auth-switch">
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}

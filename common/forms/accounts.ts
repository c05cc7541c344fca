/** What people type to sign up, sign in and keep an account: the forms check it, the auth router enforces it. */
import { z } from "zod";
import { Bounds } from "../input-bounds";

export const DisplayName = z
  .string()
  .trim()
  .min(Bounds.displayName.min, "Enter a name others will see")
  .max(Bounds.displayName.max, `Keep the name under ${Bounds.displayName.max} characters`)
  .regex(/^[^\p{Cc}\p{Cf}<>]+$/u, "Use letters, digits and ordinary punctuation");

export const Email = z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address").max(Bounds.email.max));

export const NewPassword = z
  .string()
  .min(Bounds.password.min, `Use at least ${Bounds.password.min} characters`)
  .max(Bounds.password.max, `Use at most ${Bounds.password.max} characters`);

export const SignUpInput = z.object({ displayName: DisplayName, email: Email, password: NewPassword });

export const SignInInput = z.object({ email: Email, password: z.string().min(1, "Enter your password").max(Bounds.password.max) });

/** A workshop student keeps the account (email and password); someone with a password changes them. */
export const CredentialsInput = z.object({ email: Email, password: NewPassword, currentPassword: z.string().max(Bounds.password.max).optional() });

/** The account page's form: the credentials, typed twice where a typo would lock someone out. */
export const CredentialsForm = CredentialsInput.extend({ confirm: z.string() }).refine((form) => form.password === form.confirm, {
  path: ["confirm"],
  message: "The two passwords are not the same",
});

/** "Forgot your password?": the email a reset link is sent to (if it has an account). */
export const PasswordResetRequestInput = z.object({ email: Email });

/** The token of a one-time reset link (as /reset-password/<token> carries it). */
export const PasswordResetToken = z.string().regex(/^[a-z2-7]{32}$/, "This reset link is not complete. Copy the whole link.");

/** The reset page: a new password under the same rules as sign-up, typed twice. */
export const PasswordResetInput = z.object({ token: PasswordResetToken, password: NewPassword });
export const PasswordResetForm = PasswordResetInput.extend({ confirm: z.string() }).refine((form) => form.password === form.confirm, {
  path: ["confirm"],
  message: "The two passwords are not the same",
});

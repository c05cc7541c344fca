/**
 * "Forgot your password?" by email. The answer never depends on the email (the work happens
 * after the reply), so the form cannot be used to find out who has an account.
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { Mailer } from "../mail/mailer";
import { createPasswordReset, PASSWORD_RESET_LIFETIME_MS } from "./password-reset";

export function mailPasswordReset(db: Database, mailer: Mailer, baseUrl: string, email: string, log: Logger): void {
  void (async () => {
    const user = await db.user.findUnique({ where: { email }, select: { id: true, displayName: true } });
    if (!user) return;
    const reset = await createPasswordReset(db, user.id, null);
    const minutes = Math.round(PASSWORD_RESET_LIFETIME_MS / 60_000);
    await mailer.send({
      to: email,
      subject: "Reset your Shellroom password",
      text: [
        `Hello ${user.displayName},`,
        "",
        "Someone (we hope you) asked to reset the password of your Shellroom account. Open this link to choose a new one:",
        "",
        `${baseUrl}${reset.path}`,
        "",
        `The link works once, for ${minutes} minutes. If you did not ask, ignore this mail: your password stays as it is.`,
      ].join("\n"),
    });
    log.info({ userId: user.id }, "password reset link sent");
  })().catch((error: Error) => log.error({ err: error.message }, "could not send a password reset link"));
}

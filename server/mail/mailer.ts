/** Mail Shellroom sends (password reset links), through the operator's SMTP server (SHELLROOM_SMTP_URL). */
import nodemailer from "nodemailer";

export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
  close(): void;
}

export function smtpMailer(smtp: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(smtp.url);
  return {
    async send(message) {
      await transport.sendMail({ from: smtp.from, ...message });
    },
    close: () => transport.close(),
  };
}

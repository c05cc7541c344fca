/** The little of smtp-server 3 the password reset test uses (the package ships no types). */
declare module "smtp-server" {
  import type { Server } from "node:net";
  import type { Readable } from "node:stream";

  interface SMTPSession {
    envelope: { rcptTo: { address: string }[] };
  }

  export class SMTPServer {
    constructor(options: {
      authOptional?: boolean;
      disabledCommands?: string[];
      logger?: boolean;
      onData?: (stream: Readable, session: SMTPSession, done: (error?: Error) => void) => void;
    });
    server: Server;
    listen(port: number, host: string, callback: () => void): void;
    close(callback: () => void): void;
  }
}

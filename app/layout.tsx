import type { Metadata } from "next";
import type { ReactNode } from "react";
import "@xterm/xterm/css/xterm.css";
// One design system: every stylesheet is loaded here, once, in this order (globals.css first),
// so a page looks the same whichever page was visited before it (pages used to add their own).
import "./globals.css";
import "./labs/lab.css";
import "./labs/[labId]/raise-hand.css";
import "./components/terminal-panel.css";
import "./courses/authoring.css";
import "./courses/[courseId]/live/live-room.css";
import "./courses/[courseId]/live/prepare-panel.css";
import "./courses/[courseId]/live/admission-queue-panel.css";
import { Providers } from "./providers";
import { SiteHeader } from "./components/site-header";

export const metadata: Metadata = {
  title: "Shellroom",
  description: "A real Linux shell for every student, in the browser.",
  icons: { icon: "/favicon.svg" },
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <SiteHeader />
          {children}
        </Providers>
      </body>
    </html>
  );
}

import type { Metadata } from "next";
import type { ReactNode } from "react";
import "@xterm/xterm/css/xterm.css";
// One design system: every stylesheet is loaded here, once, in this order (the palette first),
// so a page looks the same whichever page was visited before it (pages used to add their own).
// The order is the cascade: a later file's rule wins over an earlier one of equal specificity.
import "./styles/tokens.css";
import "./styles/base.css";
import "./styles/site-header.css";
import "./styles/page.css";
import "./styles/forms.css";
import "./styles/buttons.css";
import "./styles/page-parts.css";
import "./styles/courses.css";
import "./styles/tables.css";
import "./styles/lab-layout.css";
import "./styles/small-screens.css";
import "./styles/status-page.css";
import "./labs/lab-split.css";
import "./labs/lab-steps.css";
import "./labs/lab-checks.css";
import "./components/markdown.css";
import "./components/webhooks-panel.css";
import "./labs/lab-terminal.css";
import "./labs/reset-dialog.css";
import "./labs/[labId]/raise-hand.css";
import "./labs/[labId]/environment-tabs.css";
import "./components/terminal-panel.css";
import "./courses/authoring-frame.css";
import "./courses/authoring-markdown-field.css";
import "./courses/authoring-images.css";
import "./courses/authoring-lab-editor.css";
import "./courses/authoring-progress.css";
import "./courses/authoring-course-page.css";
import "./courses/authoring-small-screens.css";
import "./courses/[courseId]/live/live-room.css";
import "./courses/[courseId]/live/hand-queue.css";
import "./courses/[courseId]/live/student-card.css";
import "./courses/[courseId]/live/live-dialogs.css";
import "./courses/[courseId]/live/live-bulk.css";
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

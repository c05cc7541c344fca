import type { Metadata } from "next";
import type { ReactNode } from "react";
import "@xterm/xterm/css/xterm.css";
import "./globals.css";
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

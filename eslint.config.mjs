// ESLint flat config: typescript-eslint with type information for the product code, without it for
// tests (faster; their JSON replies are untyped by nature), React hooks and Next.js rules for app/.
// `npm run lint` runs it with --max-warnings 0; scripts/test.sh runs that after the type check.
import js from "@eslint/js";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

const productCode = ["app/**/*.{ts,tsx}", "server/**/*.ts", "runtime-worker/**/*.ts", "protocol/**/*.ts", "common/**/*.ts", "scripts/**/*.ts"];

export default defineConfig([
  globalIgnores(["generated/", ".next/", "node_modules/", ".data/", "test-results/", "playwright-report/", "next-env.d.ts"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // A leading underscore marks a value taken out on purpose (rest-destructuring to omit a field, an unused callback argument).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
      // Terminal code matches escape sequences (\x1b, \x03, ...): control characters in patterns are the point here.
      "no-control-regex": "off",
      // A callback set up before its variable is assigned (the terminal's output relay) reads it as `let` on purpose.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: productCode,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // In-memory stand-ins (rate limits, heartbeats, usage without Redis) implement async interfaces without awaiting.
      "@typescript-eslint/require-await": "off",
      // Async emitter listeners, socket.io middleware and React handlers here catch their own errors; floating promises stay checked.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      // The code writes `list[0]!` as if noUncheckedIndexedAccess were on (turning it on leaves 15 type errors); this rule would strip them.
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
  {
    files: ["app/**/*.{ts,tsx}"],
    extends: [reactHooks.configs.flat.recommended, nextPlugin.configs["core-web-vitals"]],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // React Compiler heuristics (the compiler is not enabled): they flag refs and Date.now read inside event
      // callbacks and state set once after mount from browser-only APIs (storage, clipboard), all deliberate here.
      "react-hooks/refs": "off",
      "react-hooks/purity": "off",
      "react-hooks/set-state-in-effect": "off",
    },
  },
  {
    files: ["tests/**/*.ts"],
    rules: {
      // Tests read tRPC/HTTP replies as JSON; `any` there is the honest type.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
]);

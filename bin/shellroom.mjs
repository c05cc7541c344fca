#!/usr/bin/env node
// The `shellroom` command line (package.json "bin"): runs the TypeScript entry with tsx.
import { register } from "tsx/esm/api";

register();
await import(new URL("../server/cli/shellroom.ts", import.meta.url).href);

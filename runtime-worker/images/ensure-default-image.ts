/** CLI: builds the default student image when it is missing (used by setup and tests). */
import Docker from "dockerode";
import { ensureDefaultImage } from "./base-image";

const docker = new Docker();
ensureDefaultImage(docker, (line) => console.log(`[image] ${line}`)).catch((error: unknown) => {
  console.error(`[image] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

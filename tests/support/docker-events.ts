/**
 * What the engine itself recorded: the execs created in a container over a time window
 * (Docker's event log), so a test can show a path runs no `docker exec`.
 */
import type Docker from "dockerode";

/** Now, in the seconds (with a fraction) Docker's event filters take. */
export const engineNow = () => Number((Date.now() / 1000).toFixed(3));

/** The commands of the execs created in `container` between `since` and `until` (engineNow values). */
export async function execsCreated(docker: Docker, container: string, since: number, until = engineNow() + 1): Promise<string[]> {
  const events = await docker.getEvents({ since, until, filters: { type: ["container"], container: [container], event: ["exec_create"] } });
  const body = await new Promise<string>((resolve, reject) => {
    let text = "";
    events.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    events.once("end", () => resolve(text));
    events.once("error", reject);
  });
  return body
    .split("\n")
    .filter(Boolean)
    .map((line) => String((JSON.parse(line) as { Action?: string }).Action ?? "").replace(/^exec_create: /, ""));
}

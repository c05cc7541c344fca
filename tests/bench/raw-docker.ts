/**
 * The baseline: the least a client must do with dockerode to give someone a shell in a
 * container with the platform's own create options. No database, no sockets, no mirror.
 */
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import {
  LABEL_ENVIRONMENT,
  LABEL_MANAGED,
  LABEL_OWNER,
  containerCreateOptions,
  containerName,
  homeVolumeName,
  volumeName,
} from "../../runtime-worker/docker/container-config";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { TERMINAL_SIZE } from "./browser-socket";
import { now } from "./measure";
import { withTimeout } from "./platform-shell";
import type { TerminalLink } from "./terminal-link";

export interface RawShell extends TerminalLink {
  stream: Duplex;
  /** Resolves at the shell's first output byte. */
  firstByte: Promise<void>;
  /** Resolves once the output holds the prompt's "$ ". */
  prompt: Promise<void>;
  close(): void;
}

/**
 * Creates the workspace volume and the container, starts it and execs `bash -l` with a TTY.
 * `runtime` names the OCI runtime (runc, crun); by default, the one the platform's containers get.
 */
export async function startRawShell(docker: Docker, spec: EnvironmentSpec, workerId: string, runtime?: string): Promise<RawShell> {
  return execShell(await startRawContainer(docker, spec, workerId, runtime));
}

/** The workspace volume and the container with the platform's create options, started (no shell yet). */
export async function startRawContainer(docker: Docker, spec: EnvironmentSpec, workerId: string, runtime?: string): Promise<Docker.Container> {
  await docker.createVolume({
    Name: volumeName(spec.environmentId),
    Labels: { [LABEL_MANAGED]: "true", [LABEL_ENVIRONMENT]: spec.environmentId, [LABEL_OWNER]: spec.ownerId },
  });
  const container = await docker.createContainer(containerCreateOptions(spec, workerId, runtime));
  await container.start();
  return container;
}

/** `bash -l` with a TTY in a running container; the hijacked stream is raw bytes. */
export async function execShell(container: Docker.Container): Promise<RawShell> {
  const exec = await container.exec({
    Cmd: ["/bin/bash", "-l"],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: [`COLUMNS=${TERMINAL_SIZE.cols}`, `LINES=${TERMINAL_SIZE.rows}`],
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  const firstByte = new Promise<void>((resolve, reject) => {
    stream.once("data", () => resolve());
    stream.once("error", reject);
  });
  const prompt = new Promise<void>((resolve, reject) => {
    let text = "";
    const onChunk = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (!text.includes("$ ")) return;
      stream.off("data", onChunk);
      resolve();
    };
    stream.on("data", onChunk);
    stream.once("close", () => reject(new Error(`the shell ended before its prompt; output: ${JSON.stringify(text.slice(-300))}`)));
  });
  prompt.catch(() => undefined);
  // The size is set alongside, as any real client would; it is not waited for.
  exec.resize({ h: TERMINAL_SIZE.rows, w: TERMINAL_SIZE.cols }).catch(() => undefined);
  return {
    stream,
    firstByte,
    prompt,
    write: (data) => {
      stream.write(data);
    },
    onData(listener) {
      const onChunk = (chunk: Buffer) => listener(chunk);
      stream.on("data", onChunk);
      return () => {
        stream.off("data", onChunk);
      };
    },
    close: () => {
      stream.end();
      stream.destroy();
    },
  };
}

export interface RawBurstResult {
  /** Burst began -> the last container's shell prompt ("$ "). */
  wallMs: number;
  /** Per container that got there: burst began -> its prompt. */
  toPrompt: number[];
  /** Per container that got there: what `afterPrompt` resolved with. */
  after: number[];
  failures: string[];
  /** Every shell that was opened (the caller closes them and removes the containers). */
  shells: RawShell[];
}

/**
 * A class's shape on raw dockerode: one container per spec (volume, create, start, exec a
 * login shell), all at once, each timed from the common start to its prompt; then
 * `afterPrompt` (e.g. one echo) on each, whose result is kept.
 */
export async function rawBurst(
  docker: Docker,
  specs: readonly EnvironmentSpec[],
  workerId: string,
  options: { runtime?: string; timeoutMs?: number; afterPrompt?: (shell: RawShell) => Promise<number> } = {},
): Promise<RawBurstResult> {
  const shells: RawShell[] = [];
  const began = now();
  const results = await Promise.allSettled(
    specs.map(async (spec) => {
      const shell = await startRawShell(docker, spec, workerId, options.runtime);
      shells.push(shell);
      await withTimeout(shell.prompt, options.timeoutMs ?? 120_000, "raw prompt");
      const toPrompt = now() - began;
      return { toPrompt, after: options.afterPrompt ? await options.afterPrompt(shell) : Number.NaN };
    }),
  );
  const done = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  return {
    wallMs: done.length ? Math.max(...done.map((result) => result.toPrompt)) : Number.NaN,
    toPrompt: done.map((result) => result.toPrompt),
    after: done.map((result) => result.after),
    failures: results.flatMap((result) =>
      result.status === "rejected" ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : [],
    ),
    shells,
  };
}

/** Removes a baseline container and its volumes (the workspace and the home beside it); missing ones are fine. */
export async function removeRaw(docker: Docker, environmentId: string) {
  await docker
    .getContainer(containerName(environmentId))
    .remove({ force: true })
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
  for (const name of [volumeName(environmentId), homeVolumeName(volumeName(environmentId))]) {
    await docker
      .getVolume(name)
      .remove()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }
}

/**
 * The numeric ids of a user named in an image (a service's `user: postgres`): its writable
 * places are owned by it, since Docker applies a tmpfs's `uid`/`gid` but not its `mode` here.
 * Read from the image's /etc/passwd through a container that is created, never started.
 */
import type Docker from "dockerode";
import { RuntimeError } from "./docker-support";

const NUMERIC = /^(\d+)(?::(\d+))?$/;

/** The first file of a tar archive (Docker's archive API answers with one). */
function firstFileOf(tar: Buffer): string {
  const size = parseInt(tar.subarray(124, 136).toString("ascii").replace(/\0.*$/, "").trim() || "0", 8);
  return tar.subarray(512, 512 + size).toString("utf8");
}

export class ImageUsers {
  /** By image id and user: images never change under an id. */
  private readonly known = new Map<string, { uid: number; gid: number }>();

  constructor(private readonly docker: Docker) {}

  /** The ids of `user`, or of the image's own user when null (root: undefined, nothing to change). */
  async idsOf(image: string, named: string | null): Promise<{ uid: number; gid: number } | undefined> {
    const { Id, Config } = await this.docker.getImage(image).inspect();
    const user = named ?? (Config.User || "0");
    const numeric = NUMERIC.exec(user);
    if (numeric) return Number(numeric[1]) === 0 ? undefined : { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
    const key = `${Id}:${user}`;
    const cached = this.known.get(key);
    if (cached) return cached;
    const probe = await this.docker.createContainer({ Image: image, Cmd: ["true"], NetworkDisabled: true, HostConfig: { NetworkMode: "none" } });
    let passwd: string;
    try {
      const archive = await probe.getArchive({ path: "/etc/passwd" });
      const chunks: Buffer[] = [];
      for await (const chunk of archive) chunks.push(chunk as Buffer);
      passwd = firstFileOf(Buffer.concat(chunks));
    } finally {
      await probe.remove({ force: true });
    }
    const name = user.split(":")[0];
    const entry = passwd.split("\n").find((line) => line.split(":")[0] === name);
    if (!entry) throw new RuntimeError(`The image "${image}" has no user "${user}".`);
    const [, , uid, gid] = entry.split(":");
    const ids = { uid: Number(uid), gid: Number(gid) };
    this.known.set(key, ids);
    return ids;
  }
}

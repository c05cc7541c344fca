import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const script = path.resolve(import.meta.dirname, "../../scripts/lib/engine-flags.sh");
const folder = mkdtempSync(path.join(os.tmpdir(), "engine-flags-"));
/** cgroup.controllers of a hybrid host's cgroup2 mount: hugetlb on v2 (as on this Firecracker host), or none. */
const hybridWithControllers = path.join(folder, "with");
const hybridEmpty = path.join(folder, "empty");
writeFileSync(hybridWithControllers, "hugetlb\n");
writeFileSync(hybridEmpty, "");

/** engine_flags as the bootstrap runs it: its words, or the reason it refused. */
function engineFlags(env: Record<string, string>) {
  try {
    const out = execFileSync("bash", ["-c", `. "${script}" && engine_flags`], {
      env: { NODE_ENV: "test", PATH: process.env.PATH ?? "", SHELLROOM_CRUN: "/usr/bin/crun", ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, words: out.trim().split(/\s+/), error: "" };
  } catch (error) {
    return { ok: false, words: [], error: String((error as { stderr?: string }).stderr ?? error) };
  }
}

describe("the Docker engine the bootstrap starts", () => {
  it("runs containers under runc by default and registers crun beside it, with user namespaces remapped", () => {
    const flags = engineFlags({ SHELLROOM_CGROUP_UNIFIED_CONTROLLERS: hybridWithControllers });
    expect(flags.ok).toBe(true);
    expect(flags.words).toEqual(["--userns-remap=default", "--add-runtime", "crun=/usr/bin/crun", "--default-runtime=runc"]);
  });

  it("makes crun the default when asked and the host's cgroups allow it", () => {
    const flags = engineFlags({ SHELLROOM_DOCKER_RUNTIME: "crun", SHELLROOM_CGROUP_UNIFIED_CONTROLLERS: hybridEmpty });
    expect(flags.words).toContain("--default-runtime=crun");
  });

  it("refuses crun, saying why, on a host whose cgroup2 mount holds controllers (crun cannot create a container there)", () => {
    const flags = engineFlags({ SHELLROOM_DOCKER_RUNTIME: "crun", SHELLROOM_CGROUP_UNIFIED_CONTROLLERS: hybridWithControllers });
    expect(flags.ok).toBe(false);
    expect(flags.error).toContain("hugetlb");
    expect(flags.error).toContain("unset it to use runc");
  });

  it("refuses a runtime it does not know", () => {
    const flags = engineFlags({ SHELLROOM_DOCKER_RUNTIME: "kata" });
    expect(flags.ok).toBe(false);
    expect(flags.error).toContain("must be runc or crun");
  });
});

import { describe, expect, it } from "vitest";
import { LabFolderError, folderToLab, labToFolder, type LabDraft } from "../../server/labs/lab-folder";

const lab: LabDraft = {
  title: "Pipes",
  instructions: "# Pipes\n\nConnect commands.",
  published: true,
  steps: [
    { title: "Count lines", body: "Use `wc -l`.", hint: "Pipe into wc.", checkScript: "test -f ~/workspace/count.txt\n", checkTimeoutSeconds: 5 },
    { title: "Read along", body: "Nothing to check here.", hint: null, checkScript: null, checkTimeoutSeconds: 10 },
  ],
};

describe("lab folders", () => {
  it("round-trip: export then import gives the same lab", () => {
    const folder = labToFolder(lab);
    expect(Object.keys(folder).sort()).toEqual([
      "checks/01-count-lines.sh",
      "instructions.md",
      "lab.yaml",
      "steps/01-count-lines.md",
      "steps/02-read-along.md",
    ]);
    expect(folderToLab(folder)).toEqual(lab);
  });

  it("accept an uploaded folder whose paths start with the folder's name", () => {
    const prefixed = Object.fromEntries(Object.entries(labToFolder(lab)).map(([name, content]) => [`pipes-lab/${name}`, content]));
    expect(folderToLab(prefixed).steps[0]!.checkScript).toBe(lab.steps[0]!.checkScript);
  });

  it("say which file is missing or which field is wrong", () => {
    const folder = labToFolder(lab);
    delete folder["checks/01-count-lines.sh"];
    expect(() => folderToLab(folder)).toThrow("lab.yaml: steps[0].check refers to checks/01-count-lines.sh, which is not in the folder.");
    expect(() => folderToLab({})).toThrow(LabFolderError);
    expect(() => folderToLab({ "lab.yaml": "title: [unclosed" })).toThrow(/not valid YAML/);
    expect(() => folderToLab({ "lab.yaml": "title: x\nsteps:\n  - title: a\n    body: ../../etc/passwd" })).toThrow(
      /steps.0.body must name a file under steps/,
    );
  });
});

describe("a lab folder's infrastructure", () => {
  const manifest = [
    "title: SQL basics",
    "services:",
    "  - name: postgres",
    "    image: shellroom/c-course-postgres:1",
    "    user: postgres",
    "    command: [postgres, -D, /var/lib/postgresql/data]",
    "    writable: [{ path: /var/lib/postgresql, sizeMb: 64 }]",
    "    readiness: { kind: tcp, port: 5432 }",
    "preview: [8000]",
  ].join("\n");

  it("declares services and preview ports in lab.yaml, and exports them again", () => {
    const draft = folderToLab({ "lab.yaml": manifest });
    expect(draft.infrastructure?.previewPorts).toEqual([8000]);
    expect(draft.infrastructure?.services?.[0]).toMatchObject({ name: "postgres", user: "postgres", readiness: { kind: "tcp", port: 5432 } });
    const again = folderToLab(labToFolder(draft));
    expect(again.infrastructure).toEqual(draft.infrastructure);
  });

  it("refuses a service it cannot run, naming the field", () => {
    expect(() => folderToLab({ "lab.yaml": manifest.replace("name: postgres", "name: Postgres DB") })).toThrow(/services\.0\.name/);
    expect(() => folderToLab({ "lab.yaml": `${manifest}\n`.replace("preview: [8000]", "preview: [70000]") })).toThrow(/preview\.0/);
  });

  it("says nothing of infrastructure when the folder declares none (the template's stays)", () => {
    expect(folderToLab({ "lab.yaml": "title: Plain" }).infrastructure).toBeUndefined();
  });
});

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

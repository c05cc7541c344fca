import { describe, expect, it } from "vitest";
import { sameOriginPath } from "../../common/same-origin-path";

describe("the return path after single sign-on", () => {
  it("keeps a path on this site with its query and fragment", () => {
    expect(sameOriginPath("/join/ABC-123")).toBe("/join/ABC-123");
    expect(sameOriginPath("/courses?tab=mine#top")).toBe("/courses?tab=mine#top");
  });

  it("replaces anything that could leave the site with the home page", () => {
    for (const next of [null, "", "courses", "//evil.test", "/\\evil.test", "https://evil.test/", "javascript:alert(1)", "/%5C%5Cevil.test"]) {
      const path = sameOriginPath(next);
      expect(new URL(path, "https://shellroom.test").origin).toBe("https://shellroom.test");
      expect(path.startsWith("//")).toBe(false);
    }
  });
});

import { expect, it } from "vitest";
import { baseImagesOf } from "../../runtime-worker/images/base-image";

it("finds the base images a Dockerfile needs, skipping its own stages", () => {
  expect(baseImagesOf("FROM shellroom/default:1 AS build\nRUN make\nFROM build\nFROM scratch\nfrom python AS py\nCOPY --from=py / /")).toEqual(["shellroom/default:1", "python:latest"]);
  expect(() => baseImagesOf("ARG BASE\nFROM $BASE")).toThrow(/not supported/);
});

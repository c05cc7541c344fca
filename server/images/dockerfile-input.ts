/**
 * An instructor's Dockerfile as the API accepts it: within size, and passing the build
 * policy (nothing the Docker daemon would fetch), refused with the offending line as a
 * field error before anything is stored or built.
 */
import { checkDockerfile, DockerfileRefusedError } from "../../protocol/dockerfile-policy";
import { DockerfileText } from "../../common/forms/images";

export const DockerfileInput = DockerfileText.superRefine((text, context) => {
  try {
    checkDockerfile(text);
  } catch (error) {
    if (!(error instanceof DockerfileRefusedError)) throw error;
    context.addIssue({ code: "custom", message: error.message, params: { line: error.line } });
  }
});

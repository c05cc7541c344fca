/** An image built from a Dockerfile: its name and the Dockerfile's size (the build policy is the server's, server/images). */
import { z } from "zod";
import { Bounds } from "../input-bounds";

export const DockerfileText = z.string().max(64 * 1024, "Keep the Dockerfile under 64 KiB");

export const ImageBuildInput = z.object({
  name: z.string().trim().min(Bounds.imageName.min, "Name the image").max(Bounds.imageName.max),
  dockerfile: DockerfileText,
});

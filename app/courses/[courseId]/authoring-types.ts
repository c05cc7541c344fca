import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../../server/trpc/root";

type Outputs = inferRouterOutputs<AppRouter>;
/** Without a transformer, dates arrive as ISO strings even where the types say Date. */
export type Template = Outputs["authoring"]["templates"][number];
export type ImageSummary = Outputs["authoring"]["images"][number];
export type FullLab = Outputs["authoring"]["lab"];
export type Progress = Outputs["lab"]["progress"];

import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../../../server/trpc/root";

type Outputs = inferRouterOutputs<AppRouter>;
/** Without a transformer, dates arrive as ISO strings even where the types say Date: read them with `new Date(…)`. */
export type Overview = Outputs["live"]["overview"];
export type Student = Overview["students"][number];
export type StudentEnvironment = NonNullable<Student["environment"]>;
export type Hand = Overview["hands"][number];

/** What the room asks before a step that is hard to undo; one dialog serves the whole page. */
export type Confirmation = {
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm: () => void;
};

/** The student whose terminal the instructor is looking at. */
export type Watched = { environmentId: string; name: string };

import { adminRouter } from "./routers/admin";
import { apiTokenRouter } from "./routers/api-token";
import { authRouter } from "./routers/auth";
import { authoringRouter } from "./routers/authoring";
import { courseRouter } from "./routers/course";
import { environmentRouter } from "./routers/environment";
import { joinRouter } from "./routers/join";
import { labRouter } from "./routers/lab";
import { liveRouter } from "./routers/live";
import { preferencesRouter } from "./routers/preferences";
import { stepRouter } from "./routers/step";
import { webhookRouter } from "./routers/webhook";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  course: courseRouter,
  lab: labRouter,
  step: stepRouter,
  environment: environmentRouter,
  join: joinRouter,
  admin: adminRouter,
  authoring: authoringRouter,
  live: liveRouter,
  preferences: preferencesRouter,
  apiToken: apiTokenRouter,
  webhook: webhookRouter,
});

/** The client imports only this type. */
export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

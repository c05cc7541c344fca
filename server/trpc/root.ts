import { authRouter } from "./routers/auth";
import { courseRouter } from "./routers/course";
import { environmentRouter } from "./routers/environment";
import { labRouter } from "./routers/lab";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  course: courseRouter,
  lab: labRouter,
  environment: environmentRouter,
});

/** The client imports only this type. */
export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

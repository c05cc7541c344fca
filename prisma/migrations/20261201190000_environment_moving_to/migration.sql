-- A start moving a workspace off a draining worker: the worker it goes to (placement counts it there too).
ALTER TABLE "Environment" ADD COLUMN "movingToWorkerId" TEXT;

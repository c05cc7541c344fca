-- CreateTable
CREATE TABLE "StepResult" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "labId" TEXT NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "firstPassedAt" TIMESTAMP(3),
    "lastCheckedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastOutput" TEXT NOT NULL DEFAULT '',
    "lastExitCode" INTEGER,

    CONSTRAINT "StepResult_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StepResult_labId_idx" ON "StepResult"("labId");

-- CreateIndex
CREATE UNIQUE INDEX "StepResult_userId_stepId_key" ON "StepResult"("userId", "stepId");

-- AddForeignKey
ALTER TABLE "StepResult" ADD CONSTRAINT "StepResult_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StepResult" ADD CONSTRAINT "StepResult_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "LabStep"("id") ON DELETE CASCADE ON UPDATE CASCADE;


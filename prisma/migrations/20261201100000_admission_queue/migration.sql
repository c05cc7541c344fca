-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "queueSeenAt" TIMESTAMP(3),
ADD COLUMN     "queuedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Environment_state_queuedAt_idx" ON "Environment"("state", "queuedAt");

-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "expiresAt" TIMESTAMP(3),
ADD COLUMN     "stopReason" TEXT,
ADD COLUMN     "warnedAt" TIMESTAMP(3);


-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "startClaimedAt" TIMESTAMP(3);


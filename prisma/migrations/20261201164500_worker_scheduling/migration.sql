-- CreateEnum
CREATE TYPE "WorkerScheduling" AS ENUM ('OPEN', 'CORDONED', 'DRAINING');

-- AlterTable
ALTER TABLE "Worker" ADD COLUMN     "scheduling" "WorkerScheduling" NOT NULL DEFAULT 'OPEN';

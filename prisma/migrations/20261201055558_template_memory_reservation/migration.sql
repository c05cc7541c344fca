-- AlterTable
ALTER TABLE "EnvironmentTemplate" ADD COLUMN     "memoryReservationMb" INTEGER NOT NULL DEFAULT 64;


-- AlterTable
ALTER TABLE "EnvironmentTemplate" ADD COLUMN     "warmPoolSize" INTEGER NOT NULL DEFAULT 0;


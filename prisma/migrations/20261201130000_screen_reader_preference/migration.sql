-- AlterTable
ALTER TABLE "User" ADD COLUMN     "screenReaderMode" BOOLEAN NOT NULL DEFAULT false;

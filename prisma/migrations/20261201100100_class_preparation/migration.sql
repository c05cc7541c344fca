-- AlterTable
ALTER TABLE "Course" ADD COLUMN     "expectedSeats" INTEGER,
ADD COLUMN     "prepareSeats" INTEGER,
ADD COLUMN     "prepareUntil" TIMESTAMP(3);

-- CreateEnum
CREATE TYPE "CourseKind" AS ENUM ('COURSE', 'WORKSHOP');

-- AlterTable
ALTER TABLE "Course" ADD COLUMN     "endsAt" TIMESTAMP(3),
ADD COLUMN     "kind" "CourseKind" NOT NULL DEFAULT 'COURSE',
ADD COLUMN     "startsAt" TIMESTAMP(3);


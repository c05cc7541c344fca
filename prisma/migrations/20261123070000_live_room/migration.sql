-- AlterTable
ALTER TABLE "Course" ADD COLUMN     "endedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "HandRaise" (
    "id" TEXT NOT NULL,
    "courseId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "labId" TEXT,
    "note" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "HandRaise_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "HandRaise_courseId_resolvedAt_idx" ON "HandRaise"("courseId", "resolvedAt");

-- CreateIndex
CREATE INDEX "HandRaise_userId_resolvedAt_idx" ON "HandRaise"("userId", "resolvedAt");

-- AddForeignKey
ALTER TABLE "HandRaise" ADD CONSTRAINT "HandRaise_courseId_fkey" FOREIGN KEY ("courseId") REFERENCES "Course"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HandRaise" ADD CONSTRAINT "HandRaise_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- At most one open hand per student and course (Prisma cannot express a partial index).
CREATE UNIQUE INDEX "HandRaise_one_open_per_student" ON "HandRaise"("courseId", "userId") WHERE "resolvedAt" IS NULL;

-- CreateEnum
CREATE TYPE "WorkerImageStatus" AS ENUM ('READY', 'BUILDING', 'TRANSFERRING', 'FAILED');

-- CreateTable
CREATE TABLE "WorkerImage" (
    "workerId" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "imageId" TEXT,
    "status" "WorkerImageStatus" NOT NULL,
    "log" TEXT NOT NULL DEFAULT '',
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "retryAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WorkerImage_pkey" PRIMARY KEY ("workerId","tag")
);

-- CreateIndex
CREATE INDEX "WorkerImage_tag_status_idx" ON "WorkerImage"("tag", "status");

-- CreateIndex
CREATE INDEX "WorkerImage_imageId_idx" ON "WorkerImage"("imageId");

-- AddForeignKey
ALTER TABLE "WorkerImage" ADD CONSTRAINT "WorkerImage_workerId_fkey" FOREIGN KEY ("workerId") REFERENCES "Worker"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkerImage" ADD CONSTRAINT "WorkerImage_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image"("id") ON DELETE SET NULL ON UPDATE CASCADE;

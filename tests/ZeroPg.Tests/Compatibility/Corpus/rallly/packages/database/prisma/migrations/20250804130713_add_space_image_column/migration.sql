-- AlterTable
ALTER TABLE "spaces" ADD COLUMN     "image" TEXT;

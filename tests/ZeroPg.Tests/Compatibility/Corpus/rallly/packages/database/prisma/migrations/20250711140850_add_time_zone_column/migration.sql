-- AlterTable
ALTER TABLE "participants" ADD COLUMN     "time_zone" TEXT;

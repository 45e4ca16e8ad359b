-- AlterTable
ALTER TABLE "polls" ADD COLUMN     "hide_participants" BOOLEAN NOT NULL DEFAULT false;

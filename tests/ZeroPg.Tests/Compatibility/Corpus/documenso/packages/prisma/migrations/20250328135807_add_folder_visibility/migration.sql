-- AlterTable
ALTER TABLE "Folder" ADD COLUMN     "visibility" "DocumentVisibility" NOT NULL DEFAULT 'EVERYONE';

-- AlterTable
ALTER TABLE "space_members" ADD COLUMN     "last_selected_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

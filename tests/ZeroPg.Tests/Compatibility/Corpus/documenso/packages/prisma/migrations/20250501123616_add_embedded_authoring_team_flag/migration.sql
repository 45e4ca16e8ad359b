-- AlterTable
ALTER TABLE "TeamGlobalSettings" ADD COLUMN     "allowEmbeddedAuthoring" BOOLEAN NOT NULL DEFAULT false;

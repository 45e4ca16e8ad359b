-- AlterTable
ALTER TABLE "TeamGlobalSettings" ADD COLUMN     "documentLanguage" TEXT NOT NULL DEFAULT 'en';

-- AlterTable
ALTER TABLE "TeamGlobalSettings" ADD COLUMN     "typedSignatureEnabled" BOOLEAN NOT NULL DEFAULT true;

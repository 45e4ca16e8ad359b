-- AlterTable
ALTER TABLE "DocumentMeta" ADD COLUMN     "redirectUrl" TEXT;

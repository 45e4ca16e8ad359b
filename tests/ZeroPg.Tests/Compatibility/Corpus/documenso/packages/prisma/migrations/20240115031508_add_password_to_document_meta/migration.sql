-- AlterTable
ALTER TABLE "DocumentMeta" ADD COLUMN     "password" TEXT;

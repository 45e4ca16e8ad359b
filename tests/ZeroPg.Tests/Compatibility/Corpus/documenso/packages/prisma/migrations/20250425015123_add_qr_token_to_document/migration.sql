-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "qrToken" TEXT;

-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "authOptions" JSONB;

-- AlterTable
ALTER TABLE "Recipient" ADD COLUMN     "authOptions" JSONB;

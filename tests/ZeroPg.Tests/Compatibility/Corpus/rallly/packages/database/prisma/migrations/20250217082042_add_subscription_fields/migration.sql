-- AlterTable
ALTER TABLE "subscriptions" ADD COLUMN     "amount" INTEGER,
ADD COLUMN     "status" TEXT;

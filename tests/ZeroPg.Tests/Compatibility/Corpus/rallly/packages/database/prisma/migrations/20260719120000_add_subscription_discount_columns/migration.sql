-- AlterTable
ALTER TABLE "subscriptions" ADD COLUMN     "discount_amount_off" INTEGER,
ADD COLUMN     "discount_percent_off" DOUBLE PRECISION;

/*
  Warnings:

  - You are about to drop the column `customHTML` on the `Banner` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "Banner" DROP COLUMN "customHTML";

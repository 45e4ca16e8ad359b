/*
  Warnings:

  - You are about to drop the column `closed` on the `polls` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "polls" DROP COLUMN "closed";

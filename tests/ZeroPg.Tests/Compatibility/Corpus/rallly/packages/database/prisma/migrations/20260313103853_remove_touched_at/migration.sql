/*
  Warnings:

  - You are about to drop the column `touched_at` on the `polls` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "polls" DROP COLUMN "touched_at";

/*
  Warnings:

  - You are about to drop the column `start` on the `options` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "options" DROP COLUMN "start";

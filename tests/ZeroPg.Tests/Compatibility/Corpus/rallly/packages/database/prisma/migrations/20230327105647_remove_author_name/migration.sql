/*
  Warnings:

  - You are about to drop the column `author_name` on the `polls` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "polls" DROP COLUMN "author_name";

/*
  Warnings:

  - You are about to drop the column `selected_option_id` on the `polls` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "polls" DROP COLUMN "selected_option_id";

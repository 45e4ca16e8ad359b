-- AlterEnum
ALTER TYPE "FieldType" ADD VALUE 'EMAIL';

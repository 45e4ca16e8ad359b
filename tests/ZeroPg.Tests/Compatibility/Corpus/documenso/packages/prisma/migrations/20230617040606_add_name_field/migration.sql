-- AlterEnum
ALTER TYPE "FieldType" ADD VALUE 'NAME';

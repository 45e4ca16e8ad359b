-- AlterEnum
ALTER TYPE "FieldType" ADD VALUE 'INITIALS';

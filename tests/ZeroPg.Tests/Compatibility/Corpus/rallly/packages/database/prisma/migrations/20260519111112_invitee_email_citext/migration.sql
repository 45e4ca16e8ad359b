-- AlterTable
ALTER TABLE "scheduled_event_invites" ALTER COLUMN "invitee_email" SET DATA TYPE CITEXT;

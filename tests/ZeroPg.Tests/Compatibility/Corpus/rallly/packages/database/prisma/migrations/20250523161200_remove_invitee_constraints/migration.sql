-- DropIndex
DROP INDEX "scheduled_event_invites_scheduled_event_id_invitee_email_key";

-- DropIndex
DROP INDEX "scheduled_event_invites_scheduled_event_id_invitee_id_key";

-- DropIndex
DROP INDEX IF EXISTS "subscriptions_space_id_key";


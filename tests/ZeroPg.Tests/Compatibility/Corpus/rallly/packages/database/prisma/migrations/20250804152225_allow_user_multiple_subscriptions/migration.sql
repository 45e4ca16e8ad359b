-- DropIndex
DROP INDEX "subscriptions_user_id_key";

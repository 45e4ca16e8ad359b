-- DropIndex
DROP INDEX "Comment_id_pollId_key";

-- DropIndex
DROP INDEX "comments_id_poll_id_key";

-- DropIndex
DROP INDEX "participants_id_poll_id_key";

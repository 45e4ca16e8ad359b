-- DropTable
DROP TABLE "user_preferences";

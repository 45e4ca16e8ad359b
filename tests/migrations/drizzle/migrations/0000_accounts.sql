CREATE EXTENSION IF NOT EXISTS citext;
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" citext NOT NULL,
	CONSTRAINT "accounts_email_unique" UNIQUE("email")
);

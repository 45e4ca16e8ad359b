"""accounts"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS citext")
    op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.Text, nullable=False, unique=True))
    op.execute("ALTER TABLE accounts ALTER COLUMN email TYPE citext")


def downgrade():
    op.drop_table("accounts")
    op.execute("DROP EXTENSION citext")

"""hstore tags"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS hstore")
    op.execute("ALTER TABLE accounts ADD COLUMN tags hstore")


def downgrade():
    op.execute("ALTER TABLE accounts DROP COLUMN tags")
    op.execute("DROP EXTENSION hstore")

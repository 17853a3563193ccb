"""the time zone of each appeal: the day its signatures are dated and its deadline ends

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28

"""

from alembic import op
from babel.core import get_global
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

appeal = sa.table("appeal", sa.column("id", sa.Integer), sa.column("country", sa.String),
                  sa.column("time_zone", sa.String))  # fmt: skip


def upgrade():
    op.add_column(
        "appeal",
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
    )
    # Russia's appeals in Moscow time (the site's default zone at this revision), those of a
    # country with one zone in it; others stay in UTC, as their dates were until now.
    connection = op.get_bind()
    zones = get_global("territory_zones")
    for row in connection.execute(sa.select(appeal.c.id, appeal.c.country)).all():
        own = zones.get(row.country, [])
        zone = "Europe/Moscow" if row.country == "RU" else own[0] if len(own) == 1 else None
        if zone:
            connection.execute(sa.update(appeal).where(appeal.c.id == row.id).values(time_zone=zone))


def downgrade():
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_column("time_zone")

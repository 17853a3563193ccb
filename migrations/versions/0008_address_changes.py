"""address changes, which the old address may undo

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'address_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('old_email', sa.String(length=254), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undo_token_hash', sa.String(length=64), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_from_email', sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_address_change_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_address_change')),
        sa.UniqueConstraint('undo_token_hash', name=op.f('uq_address_change_undo_token_hash')),
    )
    with op.batch_alter_table('address_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_change_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('address_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_change_user_id'))
    op.drop_table('address_change')

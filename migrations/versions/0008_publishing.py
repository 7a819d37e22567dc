"""publishing: a published course's pending edit, mail preferences, cancelled invitations

Revision ID: 0008_publishing
Revises: 0007
Create Date: 2026-12-03 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import academy.db_types


# revision identifiers, used by Alembic.
revision = '0008_publishing'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_edit', sa.Text(), nullable=True))
    with op.batch_alter_table('provider_invitations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('cancelled_at', academy.db_types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table('mail_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('wanted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_mail_preferences'))
    )


def downgrade():
    op.drop_table('mail_preferences')
    # plain ALTER TABLE ... DROP COLUMN (SQLite has it since 3.35): a batch "move and copy" of
    # courses would drop the old table, and SQLite's ON DELETE CASCADE would empty cohorts
    op.drop_column('provider_invitations', 'cancelled_at')
    op.drop_column('courses', 'pending_edit')

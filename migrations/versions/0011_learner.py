"""kept forms

What someone typed into a form refused because their session had ended, kept under the hash of
a token in their browser's cookie until they are back on the form (``academy.errors.kept_forms``).

Revision ID: 0011_learner
Revises: 0010_tokens
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import academy.db_types


# revision identifiers, used by Alembic.
revision = '0011_learner'
down_revision = '0010_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kept_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('return_to', sa.String(length=2000), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('created_at', academy.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_forms')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kept_forms_token_hash'))
    )


def downgrade():
    op.drop_table('kept_forms')

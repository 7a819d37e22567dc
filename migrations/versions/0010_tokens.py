"""emailed tokens

Every emailed link (confirm an address, reset a password, move to a new address) becomes one
row in ``email_tokens``: the SHA-256 of the token, its purpose, an expiry, when it was used and
a fingerprint of the account state it was issued for. ``password_resets`` goes: links already
sent stop working (they lasted an hour), as do confirmation and address-change links signed
before the upgrade; their owners ask again.

Revision ID: 0010_tokens
Revises: 0009_places
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import academy.db_types


# revision identifiers, used by Alembic.
revision = '0010_tokens'
down_revision = '0009_places'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bound_to', sa.String(length=64), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', academy.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', academy.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', academy.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('confirm', 'reset', 'change_email')", name=op.f('ck_email_tokens_purpose_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_tokens_token_hash'))
    )
    with op.batch_alter_table('email_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_tokens_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_user_id'))
    op.drop_table('password_resets')


def downgrade():
    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', academy.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', academy.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', academy.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('email_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_tokens_user_id'))
    op.drop_table('email_tokens')

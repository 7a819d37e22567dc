"""places: one place per course unless the course allows repeats; when a mark was made

``courses.allow_repeats`` lets a provider say a course is meant to be taken again (a learner may
then hold places on several of its cohorts); ``enrolments.marked_at`` is when the provider last
marked a learner completed or not completed, from which the undo window runs.

Revision ID: 0009_places
Revises: 0008_publishing
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import academy.db_types


# revision identifiers, used by Alembic.
revision = '0009_places'
down_revision = '0008_publishing'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, never a batch copy: on SQLite a batch rebuild drops the table, and with
    # foreign keys on that deletes the cohorts and places that cascade from it.
    op.add_column(
        'courses',
        sa.Column('allow_repeats', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        'enrolments',
        sa.Column('marked_at', academy.db_types.UTCDateTime(timezone=True), nullable=True),
    )
    # marks made before this revision: the undo window runs from the completion date
    op.execute("UPDATE enrolments SET marked_at = completed_at WHERE status = 'completed'")


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later), for the reason given in upgrade().
    op.drop_column('enrolments', 'marked_at')
    op.drop_column('courses', 'allow_repeats')

"""cohort joining links

An online cohort's joining link gets a table of its own, shown only to learners with a place.
Links that providers typed into the public ``location`` of an online cohort move there, and the
courses concerned are queued for the search index, which held the link as text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import academy.db_types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

cohorts = sa.table(
    'cohorts',
    sa.column('id', sa.Integer),
    sa.column('course_id', sa.Integer),
    sa.column('is_online', sa.Boolean),
    sa.column('location', sa.String),
)
links = sa.table('cohort_joining_links', sa.column('cohort_id', sa.Integer), sa.column('url', sa.String))
outbox = sa.table(
    'search_outbox',
    sa.column('entity', sa.String),
    sa.column('entity_id', sa.Integer),
    sa.column('created_at', academy.db_types.UTCDateTime(timezone=True)),
)


def upgrade():
    op.create_table('cohort_joining_links',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_joining_links_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cohort_id', name=op.f('pk_cohort_joining_links'))
    )
    connection = op.get_bind()
    looks_like_a_link = sa.or_(
        sa.func.lower(cohorts.c.location).like('http://%'),
        sa.func.lower(cohorts.c.location).like('https://%'),
    )
    moving = connection.execute(
        sa.select(cohorts.c.id, cohorts.c.course_id, cohorts.c.location)
        .where(cohorts.c.is_online == sa.true(), looks_like_a_link)
    ).all()
    if not moving:
        return
    connection.execute(links.insert(), [{'cohort_id': id_, 'url': url} for id_, _, url in moving])
    connection.execute(
        cohorts.update().where(cohorts.c.id.in_([id_ for id_, _, _ in moving])).values(location=None)
    )
    now = datetime.now(UTC)
    connection.execute(
        outbox.insert(),
        [{'entity': 'course', 'entity_id': course_id, 'created_at': now}
         for course_id in sorted({course_id for _, course_id, _ in moving})],
    )


def downgrade():
    connection = op.get_bind()
    # the link goes back where it was, for cohorts whose place is still empty; a link longer
    # than the place can hold is dropped rather than cut into a link that goes nowhere
    for cohort_id, url in connection.execute(sa.select(links.c.cohort_id, links.c.url)).all():
        if len(url) > 300:
            continue
        connection.execute(
            cohorts.update()
            .where(cohorts.c.id == cohort_id, cohorts.c.location.is_(None))
            .values(location=url)
        )
    op.drop_table('cohort_joining_links')

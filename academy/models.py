"""Import every model so that ``db.metadata`` is complete (for Alembic and ``create_all``)."""

from academy.catalogue.models import (  # noqa: F401
    Cohort,
    CohortSession,
    Course,
    Programme,
    ProgrammeModule,
)
from academy.providers.models import Provider  # noqa: F401
from academy.search.models import SearchIndexPosition, SearchOutbox  # noqa: F401
from academy.taxonomy.models import (  # noqa: F401
    DeliveryMode,
    Principle,
    Profession,
    Region,
    Sector,
    Step,
)

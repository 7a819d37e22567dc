"""Import every model so that ``db.metadata`` is complete (for Alembic and ``create_all``)."""

from academy.accounts.models import (  # noqa: F401
    AuthSession,
    EmailToken,
    LoginAttempt,
    ProviderMembership,
    User,
)
from academy.audit import AuditEntry  # noqa: F401
from academy.catalogue.models import (  # noqa: F401
    Cohort,
    CohortSession,
    Course,
    Programme,
    ProgrammeModule,
)
from academy.enrolment.models import Enrolment  # noqa: F401
from academy.errors.kept_forms import KeptForm  # noqa: F401
from academy.mail.models import OutboxMessage  # noqa: F401
from academy.ops.models import RateLimitCounter  # noqa: F401
from academy.portfolio.models import (  # noqa: F401
    EvidenceFile,
    IssuedCredential,
    LearningRecordEntry,
    ShareLink,
)
from academy.providers.models import (  # noqa: F401
    CohortJoiningLink,
    Provider,
    ProviderInvitation,
)
from academy.search.models import SearchIndexPosition, SearchOutbox  # noqa: F401
from academy.taxonomy.models import (  # noqa: F401
    DeliveryMode,
    Principle,
    Profession,
    Region,
    Sector,
    Step,
)

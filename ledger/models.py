"""Import every model module so that the metadata (and Alembic) knows all tables."""
from .audit import AuditEvent  # noqa: F401
from .auth.models import ApiToken, Organisation, Region, Role, User  # noqa: F401
from .idempotency import IdempotencyRecord  # noqa: F401
from .journal.models import (  # noqa: F401
    Account,
    AccountDayTotal,
    Fund,
    Hold,
    JournalEntry,
    Period,
    PeriodState,
    Posting,
)
from .reports.models import ReportRun  # noqa: F401,E402
from .imports import ImportBatch  # noqa: F401,E402
from .aid.models import Household, Person, PersonCategory  # noqa: F401,E402
from .documents.models import DocumentLink, StoredDocument  # noqa: F401,E402
from .vendors.models import Contract, ContractVersion, VendorProfile, Worker  # noqa: F401,E402
from .aid.application_models import (  # noqa: F401,E402
    Application, ApplicationNumber, TierBand, TierFactor, TierPolicy, TierPolicyVersion)
from .vendors.person_models import (  # noqa: F401,E402
    CareAssessment,
    CareAssignment,
    SupportedPerson,
    SupportedStatusChange,
)
from .vendors.visit_models import CareVisit, VisitResolution, VisitUpload  # noqa: F401,E402

"""The supported persons' words in the interface language: statuses and the six activities (care
levels: `ledger.vendors.vocabulary.CARE_LEVEL_LABELS`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "active": _l("Cared for at home"),
    "in_institution": _l("In an institution"),
    "deceased": _l("Deceased"),
    "moved_out": _l("Moved out"),
}

ACTIVITY_LABELS = {
    "eating": _l("Eating"),
    "dressing": _l("Dressing"),
    "transferring": _l("Getting in and out of bed"),
    "toileting": _l("Toileting"),
    "walking_indoors": _l("Walking indoors"),
    "bathing": _l("Bathing"),
}

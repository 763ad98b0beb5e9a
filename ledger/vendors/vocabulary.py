"""The words of care procurement in the reader's language: care levels, statuses, contract states
and moves (keyed by the enum values the services use)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CARE_LEVEL_LABELS = {
    "self_caring": _l("self-caring"),
    "partly_disabled": _l("partly disabled"),
    "fully_disabled": _l("fully disabled"),
}

VENDOR_STATUS_LABELS = {
    "active": _l("Active"),
    "suspended": _l("Suspended"),
}

CONTRACT_STATE_LABELS = {
    "draft": _l("Draft"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "ended": _l("Ended"),
}

#: The button of each move of a contract.
CONTRACT_ACTION_LABELS = {
    "activate": _l("Activate and commit the ceiling"),
    "suspend": _l("Suspend"),
    "resume": _l("Resume"),
    "end": _l("End and release the commitment"),
}

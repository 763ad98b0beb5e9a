"""The care visits' words in the interface language: states, reason codes (each saying what to do),
service types, capture methods, resolution codes, and the upload's row reasons."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..aid.views import row_reason as registry_row_reason

STATE_LABELS = {
    "verified": _l("Verified"),
    "held": _l("Held"),
    "rejected": _l("Rejected"),
}

#: reason code -> (the reason, what the vendor can do about it)
REASON_LABELS = {
    "unknown_person": (_l("Unknown person"),
                       _l("No supported person has this resident ID: check the number against the register.")),
    "not_assigned": (_l("Not assigned to you that day"),
                     _l("The person was not assigned to your organisation on the visit date: check the date, "
                        "or ask the county reviewer about the assignment.")),
    "person_deceased": (_l("Person deceased"),
                        _l("The person died before the visit date: check the date and the person.")),
    "person_in_institution": (_l("Person in an institution"),
                              _l("The person lived in an institution on the visit date: check the date and "
                                 "the person.")),
    "unknown_worker": (_l("Unknown worker"),
                       _l("No caregiver of yours has this worker number: add the worker or correct the number.")),
    "inactive_worker": (_l("Worker not active that day"),
                        _l("The caregiver was not active on the visit date: check the date or the worker's "
                           "active dates.")),
    "end_before_start": (_l("Ends before it starts"),
                         _l("The end time is before the start time: for a visit past midnight write the end "
                            "as a date and time.")),
    "longer_than_24h": (_l("Longer than 24 hours"),
                        _l("A visit lasts at most 24 hours: check the start and end.")),
    "duplicate": (_l("Duplicate"),
                  _l("A visit of this person by this worker at this start time is recorded already.")),
    "no_checkout": (_l("No check-out"),
                    _l("The visit has no end time: confirm when the caregiver left.")),
    "far_from_home": (_l("More than 1 km from home"),
                      _l("The check-in was more than 1 km from the person's address: confirm where the care "
                         "was given.")),
    "worker_overlap": (_l("Worker in two visits at once"),
                       _l("The same caregiver has another visit overlapping this one: correct the times or the "
                          "worker.")),
    "shorter_than_minimum": (_l("Shorter than the contract minimum"),
                             _l("The visit is shorter than the contract's minimum for the person's care level: "
                                "explain why, or record it as not given.")),
}

SERVICE_TYPE_LABELS = {
    "personal_care": _l("Personal care"),
    "meals": _l("Meals"),
    "cleaning": _l("Cleaning"),
    "health": _l("Health check"),
    "companionship": _l("Companionship"),
    "errands": _l("Errands"),
}

CAPTURE_METHOD_LABELS = {
    "app": _l("App check-in"),
    "phone": _l("Phone"),
    "paper": _l("Paper"),
}

RESOLUTION_LABELS = {
    "checkout_confirmed": _l("Check-out time confirmed (verify)"),
    "location_confirmed": _l("Place of care confirmed (verify)"),
    "schedule_corrected": _l("Schedule checked: no double booking (verify)"),
    "duration_justified": _l("Short visit justified (verify)"),
    "not_given": _l("Care not given as recorded (reject)"),
}

#: The upload's format errors, in the reader's language (the pipeline says them in English).
ROW_REASONS = {
    "unknown service type": _l("unknown service type"),
    "must be a time of day such as 08:30": _l("must be a time of day such as 08:30"),
    "must be a time such as 09:30, or a date and time such as 2026-03-02 09:30":
        _l("must be a time such as 09:30, or a date and time such as 2026-03-02 09:30"),
    "must be a date such as 2026-03-01": _l("must be a date such as 2026-03-01"),
    "is in the future": _l("is in the future"),
    "latitude and longitude go together": _l("latitude and longitude go together"),
    "a location is required: GPS coordinates or an address":
        _l("a location is required: GPS coordinates or an address"),
}
_MUST_BE_ONE_OF = re.compile(r"^must be one of: (.+)$")


def row_reason(message: str) -> str:
    """A format error's reason in the interface language (the registry's words for the ones it shares)."""
    choice = _MUST_BE_ONE_OF.match(message)
    if choice:
        return _("must be one of: %(labels)s", labels=choice.group(1))
    return str(ROW_REASONS[message]) if message in ROW_REASONS else registry_row_reason(message)

"""The fund ledger's words: each code with its Chinese name and its interface label, in one place.

Every vocabulary is an enum whose members carry
* `value`: the code the API, the database and the exports use (`medical_aid`);
* `chinese`: the name in reports, PDFs and registers, which are always Chinese (医疗救助);
* `label`: the interface label, written in English and translated into the reader's
  language by the catalog (`lazy_gettext`).
Schemas validate against the codes, forms offer the labels, services check the codes,
reports and exports print the Chinese names: all of them read these enums.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from ..journal.models import EntryKind, FundLevel, HoldState


class Labelled(str, enum.Enum):
    """A code with its Chinese name and its interface label."""

    def __new__(cls, value: str, chinese: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.chinese = chinese
        member.label = label
        return member

    @classmethod
    def codes(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {member.value: member.label for member in cls}

    @classmethod
    def chinese_names(cls) -> dict[str, str]:
        return {member.value: member.chinese for member in cls}


class Purpose(Labelled):
    """What a disbursement or a hold is for."""

    medical_aid = ("medical_aid", "医疗救助", _l("Medical aid"))
    temporary_assistance = ("temporary_assistance", "临时救助", _l("Temporary assistance"))
    emergency_aid = ("emergency_aid", "急难救助", _l("Emergency aid"))
    care_service = ("care_service", "照护服务", _l("Care service"))
    rehabilitation = ("rehabilitation", "康复救助", _l("Rehabilitation aid"))
    education_aid = ("education_aid", "教育救助", _l("Education aid"))
    other = ("other", "其他", _l("Other"))


class ReceiptSource(Labelled):
    """Where money received comes from (a receipt's purpose)."""

    donation = ("donation", "捐赠收入", _l("Donation"))
    government = ("government", "政府补助收入", _l("Government grant"))


class PayeeKind(Labelled):
    person = ("person", "个人", _l("Person"))
    organisation = ("organisation", "机构", _l("Organisation"))


#: The journal's own enums, named: entry kinds, hold states and fund levels.
ENTRY_KIND_NAMES: dict[EntryKind, tuple[str, object]] = {
    EntryKind.opening: ("期初", _l("Opening balance")),
    EntryKind.receipt: ("收入", _l("Receipt")),
    EntryKind.allocation: ("划拨", _l("Allocation")),
    EntryKind.disbursement: ("支出", _l("Disbursement")),
    EntryKind.hold_post: ("预留支付", _l("Hold paid")),
    EntryKind.reversal: ("冲销", _l("Reversal")),
}
HOLD_STATE_LABELS = {HoldState.pending.value: _l("Pending"), HoldState.posted.value: _l("Paid"),
                     HoldState.voided.value: _l("Voided"), HoldState.expired.value: _l("Expired")}
LEVEL_LABELS = {FundLevel.city.value: _l("City"), FundLevel.county.value: _l("County"),
                FundLevel.village.value: _l("Village / community")}


def entry_kind_chinese(kind) -> str:
    return ENTRY_KIND_NAMES[EntryKind(kind)][0]


def entry_kind_label(kind):
    try:
        return ENTRY_KIND_NAMES[EntryKind(kind)][1]
    except ValueError:
        return kind


def purpose_label(code):
    """The interface label of a disbursement's purpose or a receipt's source; the code itself if unknown."""
    for vocabulary in (Purpose, ReceiptSource):
        if code in vocabulary.codes():
            return vocabulary(code).label
    return code or ""

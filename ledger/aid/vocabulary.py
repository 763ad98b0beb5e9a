"""The registry's words in the interface language: categories and relations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "tekun_dispersed": _l("Extremely poor, dispersed support"),
    "tekun_concentrated": _l("Extremely poor, concentrated support"),
    "dibao": _l("Minimum living allowance (dibao)"),
    "margin_income": _l("Low-income margin, income type"),
    "margin_expenditure": _l("Low-income margin, expenditure type"),
    "illness_poverty": _l("Poor through illness"),
    "disability": _l("Disability"),
    "orphan": _l("Orphan"),
}

RELATION_LABELS = {
    "head": _l("Head of household"),
    "spouse": _l("Spouse"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "grandchild": _l("Grandchild"),
    "grandparent": _l("Grandparent"),
    "sibling": _l("Sibling"),
    "other": _l("Other"),
}

SEX_LABELS = {"male": _l("Male"), "female": _l("Female")}

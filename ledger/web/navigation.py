"""The menu and the start-page tiles, per role.

Feature packages call `add_section(...)` when they register; each user sees
the sections their role may open, so every role lands on a page made for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..auth.models import OrganisationKind, Role

ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.finance: _l("Finance staff"),
    Role.reviewer: _l("Civil affairs reviewer"),
    Role.charity: _l("Charity organisation"),
    Role.vendor: _l("Care vendor"),
    Role.auditor: _l("Auditor"),
}


KIND_LABELS = {
    OrganisationKind.city_bureau: _l("City bureau"),
    OrganisationKind.county_bureau: _l("County civil affairs bureau"),
    OrganisationKind.charity: _l("Charity organisation"),
    OrganisationKind.vendor: _l("Care vendor"),
}

#: What each role is here to do: the first line of its start page.
ROLE_INTROS = {
    Role.admin: _l("You manage who may use the ledger: users, their roles and organisations."),
    Role.finance: _l("You record receipts, allocations and disbursements and run payment batches."),
    Role.reviewer: _l("You approve, reject or escalate applications and watch the emergency clocks."),
    Role.charity: _l("You apply for tiered aid for your cases and follow them; you see your own organisation's records."),
    Role.vendor: _l("You report care visits and submit monthly invoices; you see your own organisation's records."),
    Role.auditor: _l("You read everything and change nothing: balances, vouchers and verifiable audit reports."),
}


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: object  # a lazy string
    text: object
    roles: frozenset
    order: int = 50
    in_menu: bool = True


_SECTIONS: dict[str, Section] = {}


def add_section(endpoint: str, title, text, roles, order: int = 50, in_menu: bool = True) -> None:
    """Offer the page at `endpoint` to `roles`: a menu item and a start-page tile.

    Sections are listed by `order` (the ledger's own work around 10-60, account and
    directory pages at 80-90). `in_menu=False` keeps a section out of the top menu (it
    is reached from the user box), leaving only its tile. Adding the same endpoint
    again replaces it.
    """
    _SECTIONS[endpoint] = Section(endpoint, title, text, frozenset(Role(r) for r in roles), order, in_menu)


def sections_for(role) -> list[Section]:
    role = Role(role)
    return sorted((s for s in _SECTIONS.values() if role in s.roles), key=lambda s: s.order)


def register_template_helpers(app):
    from flask_login import current_user

    @app.context_processor
    def helpers():
        def nav_items():
            if not current_user.is_authenticated:
                return []
            items = []
            for section in sections_for(current_user.role):
                if not section.in_menu:
                    continue
                url = url_for(section.endpoint)
                items.append({"url": url, "label": section.title,
                              "active": request.path == url or request.path.startswith(url + "/")})
            return items

        def dashboard_tiles():
            if not current_user.is_authenticated:
                return []
            return [{"url": url_for(s.endpoint), "title": s.title, "text": s.text}
                    for s in sections_for(current_user.role)]

        def role_label(role):
            return ROLE_LABELS.get(Role(role), role)

        def is_chinese():
            return get_locale().language == "zh"

        def here_without_lang():
            """This page's path and query, minus a one-off ?lang=, for the language links."""
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
            return request.path + ("?" + urlencode(args) if args else "")

        return {"nav_items": nav_items, "dashboard_tiles": dashboard_tiles, "role_label": role_label,
                "kind_label": lambda kind: KIND_LABELS.get(OrganisationKind(kind), kind),
                "role_intro": lambda role: ROLE_INTROS.get(Role(role), ""),
                "get_locale": get_locale, "is_chinese": is_chinese,
                "here_without_lang": here_without_lang}

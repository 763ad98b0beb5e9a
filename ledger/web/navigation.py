"""The menu and the start-page tiles, per role.

Feature packages call `add_section(...)` when they register; each user sees
the sections their role may open, so every role lands on a page made for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..auth.models import Role

ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.finance: _l("Finance staff"),
    Role.reviewer: _l("Civil affairs reviewer"),
    Role.charity: _l("Charity organisation"),
    Role.vendor: _l("Care vendor"),
    Role.auditor: _l("Auditor"),
}


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: object  # a lazy string
    text: object
    roles: frozenset


_SECTIONS: list[Section] = []


def add_section(endpoint: str, title, text, roles) -> None:
    section = Section(endpoint, title, text, frozenset(Role(r) for r in roles))
    if section not in _SECTIONS:
        _SECTIONS.append(section)


def sections_for(role) -> list[Section]:
    return [s for s in _SECTIONS if Role(role) in s.roles]


def register_template_helpers(app):
    from flask_login import current_user

    @app.context_processor
    def helpers():
        def nav_items():
            if not current_user.is_authenticated:
                return []
            items = []
            for section in sections_for(current_user.role):
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

        return {"nav_items": nav_items, "dashboard_tiles": dashboard_tiles, "role_label": role_label,
                "get_locale": get_locale}

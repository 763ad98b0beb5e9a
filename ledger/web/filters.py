"""Jinja filters: money and local time, one way everywhere; and a record's name with its code."""
from flask_babel import gettext as _

from ..identity import mask_id_number
from ..money import format_cny
from ..timeutil import to_local


def named_code(name: str, code: str) -> str:
    """A record's name with its code, "鱼台县慈善救急难项目（370827）" in Chinese with full-width
    parentheses, "Yutai ... (370827)" in English: the one way fund pickers, lists and forms name a fund."""
    return _("%(name)s (%(code)s)", name=name, code=code)


def register_filters(app):
    app.jinja_env.globals["named_code"] = named_code
    app.jinja_env.filters["cny"] = format_cny
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["local_time"] = lambda v, fmt="%Y-%m-%d %H:%M": (to_local(v).strftime(fmt) if v else "")

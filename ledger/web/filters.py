"""Jinja filters: money and local time, one way everywhere."""
from ..identity import mask_id_number
from ..money import format_cny
from ..timeutil import to_local


def register_filters(app):
    app.jinja_env.filters["cny"] = format_cny
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["local_time"] = lambda v, fmt="%Y-%m-%d %H:%M": (to_local(v).strftime(fmt) if v else "")

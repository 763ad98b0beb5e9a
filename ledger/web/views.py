"""The start page (one per role), a fund's charts and the health check.

The start page leads with the figures of the role's work (`ledger.web.dashboard` reads them,
with the access checks of the pages behind them) and keeps the role's pages one click away in a
compact list. Each chart's data travels as a JSON block (`<script type="application/json">`)
that `static/charts.js` draws; the same figures are always in a table beside it, for screen
readers and for a browser without scripts.
"""
from __future__ import annotations


import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.models import Region, Role
from ..auth.access import as_actor
from ..extensions import db
from ..timeutil import utcnow
from ..funds.display import fund_name
from ..funds.vocabulary import entry_kind_label, purpose_label
from . import dashboard as figures
from .navigation import ROLE_LABELS

web_bp = Blueprint("web", __name__)


def register(app):
    app.register_blueprint(web_bp)

    @app.context_processor
    def chart_helpers():
        return {"fund_chart_data": fund_chart_data, "purpose_label": purpose_label,
                "entry_kind_label": entry_kind_label}


def _scope_text(user) -> str:
    """One sentence saying which records this user sees, as the services scope them."""
    role = Role(user.role)
    if role in (Role.charity, Role.vendor):
        return _("You see the records of %(organisation)s only.", organisation=user.organisation.name)
    county_id = as_actor(user).county_id
    if county_id is not None:
        county = db.session.get(Region, county_id)
        return _("You see the records of %(county)s and its villages and communities.", county=county.name)
    if role == Role.auditor:
        return _("You see every record of the city, read-only.")
    return _("You see the records of the whole city: the city fund, every county and every village.")


# --- chart data: what charts.js draws, labelled in the reader's language ---------------------------

def bar_chart(categories, series, *, horizontal: bool = False, stacked: bool = False) -> dict:
    """A bar chart's data: `series` is [(name, [fen, ...])], one value per category."""
    return {"type": "bar", "categories": [str(c) for c in categories], "horizontal": horizontal,
            "stacked": stacked, "series": [{"name": str(name), "values": list(values)} for name, values in series]}


def line_chart(categories, name, values) -> dict:
    return {"type": "line", "categories": [str(c) for c in categories],
            "series": [{"name": str(name), "values": list(values)}]}


def pie_chart(categories, name, values) -> dict:
    return {"type": "pie", "categories": [str(c) for c in categories],
            "series": [{"name": str(name), "values": list(values)}]}


def short_names(names: list[str]) -> list[str]:
    """Bar labels without the words every one of them ends with ("慈善救急难项目" of each county's
    fund, "“济时救”慈善救助基金" of each village's), so a phone shows the places; the table keeps
    the full names."""
    if len(names) < 2:
        return list(names)
    shortest = min(len(name) for name in names)
    common = 0
    while common < shortest - 1 and len({name[len(name) - common - 1] for name in names}) == 1:
        common += 1
    return [name[:len(name) - common] if common >= 2 else name for name in names]


def area_balance_chart(rows) -> dict:
    below = short_names([fund_name(row.name) for row in rows if not row.own_only])
    labels = iter(below)
    return bar_chart([fund_name(row.name) if row.own_only else next(labels) for row in rows],
                     [(_("Available"), [row.available_fen for row in rows]),
                      (_("Pending"), [row.pending_fen for row in rows])], horizontal=True, stacked=True)


def month_flow_chart(flows) -> dict:
    return bar_chart([day.day.strftime("%m-%d") for day in flows.days],
                     [(_("Receipts"), [day.receipts_fen for day in flows.days]),
                      (_("Payments"), [day.payments_fen for day in flows.days])])


def fund_chart_data(code: str) -> dict:
    """For `funds/_fund_charts.html`: a fund's balance over time and spending by purpose, with charts."""
    charts = figures.fund_charts(db.session, current_user._get_current_object(), code)
    purposes = [(purpose_label(purpose), fen) for purpose, fen in charts.spending_by_purpose.items()]
    return {
        "charts": charts, "purposes": purposes,
        "balance_chart": line_chart([p.label for p in charts.balance_points], _("Balance"),
                                    [p.balance_fen for p in charts.balance_points]),
        "purpose_chart": pie_chart([label for label, _fen in purposes], _("Spending"), [fen for _l, fen in purposes]),
    }


# --- the start page --------------------------------------------------------------------------------

#: How many applications a start page lists (the full lists are one click away).
APPLICATIONS_ON_START = 6


def _queue_head(user) -> dict:
    """The reviewer's queue, most urgent first: its first few and how many wait."""
    from ..aid import applications

    queue = applications.reviewer_queue(db.session, user, page=1, per_page=APPLICATIONS_ON_START)
    return {"queue": queue.items, "queue_total": queue.total}


def _charity_figures(user) -> dict:
    """The charity's applications, newest first, with their clocks."""
    from ..aid import applications

    mine = applications.list_applications(db.session, user, page=1, per_page=APPLICATIONS_ON_START)
    return {"applications": mine.items, "applications_total": mine.total}


def _finance_figures(user) -> dict:
    areas = figures.area_balances(db.session, user)
    flows = figures.month_flows(db.session, user)
    return {"areas": areas, "area_chart": area_balance_chart(areas), "flows": flows,
            "flow_chart": month_flow_chart(flows), "holds": figures.pending_holds(db.session, user),
            "vouchers": figures.recent_vouchers(db.session, user)}


def _reviewer_figures(user) -> dict:
    areas = figures.area_balances(db.session, user)
    return {"areas": areas, "area_chart": area_balance_chart(areas), **_queue_head(user)}


def _auditor_figures(user) -> dict:
    statuses = figures.period_status(db.session, user)
    from ..reports.views import KIND_LABELS as REPORT_KIND_LABELS, STATUS_LABELS as REPORT_STATUS_LABELS

    return {"check": figures.journal_check(db.session, user), "runs": figures.recent_report_runs(db.session, user),
            "report_kind_labels": REPORT_KIND_LABELS, "report_status_labels": REPORT_STATUS_LABELS,
            "periods": statuses, "closed_count": sum(1 for status in statuses if status.closed),
            "checked_at": utcnow()}


def _admin_figures(user) -> dict:
    overview = figures.user_overview(db.session, user)
    roles = [role for role in Role]
    return {"overview": overview,
            "role_chart": bar_chart([ROLE_LABELS[role] for role in roles],
                                    [(_("Active"), [overview.by_role[role.value][0] for role in roles]),
                                     (_("Disabled"), [overview.by_role[role.value][1] - overview.by_role[role.value][0]
                                                      for role in roles])], horizontal=True, stacked=True)}


FIGURES = {Role.finance: _finance_figures, Role.reviewer: _reviewer_figures, Role.auditor: _auditor_figures,
           Role.charity: _charity_figures,
           Role.admin: _admin_figures}


@web_bp.get("/")
@login_required
def dashboard():
    user = current_user._get_current_object()
    role = Role(user.role)
    build = FIGURES.get(role)
    page = render_template("web/dashboard.html", user=current_user, scope_text=_scope_text(current_user),
                           role=role.value, figures=build(user) if build else {})
    return page  # with the one Content-Security-Policy of every page (`ledger.security`)


@web_bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitors)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": type(error).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})

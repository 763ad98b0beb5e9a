"""The fund ledger's web pages: the fund tree, a fund's page, the finance forms, the trial
balance, the journal check and the accounting periods.

Thin handlers: parse the form, check the role, call one service, render. Finance staff
write; admins, reviewers and auditors read (a county reviewer only that county's funds)
and are shown no forms or buttons. A refused operation re-renders the form with what the
person typed and the reason next to the field it concerns; a recorded one redirects with a
flash naming the voucher. Each write runs once per form key (see `forms.OnceForm`).
"""
from __future__ import annotations

import math
import re
from datetime import timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..auth.models import Role
from ..auth.permissions import require_roles
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..journal.models import EntryKind, Hold
from ..money import amount_in_words
from ..requests import form_write, page_argument, query_text
from ..timeutil import local_today, to_local, utcnow
from ..web import exports
from ..web.filters import named_code
from ..web.navigation import add_section
from .display import account_name, fund_name
from . import services
from .api import visible_entry
from .forms import (
    AllocationForm,
    AsOfForm,
    DisbursementForm,
    EntryFilterForm,
    HoldForm,
    HoldPostForm,
    HoldVoidForm,
    PeriodCloseForm,
    PeriodReopenForm,
    ReceiptForm,
    ReversalForm,
    TrialBalanceForm,
)
from .schemas import entry_data, hold_data, period_data, trial_balance_data, verify_data
from .vocabulary import HOLD_STATE_LABELS, LEVEL_LABELS, entry_kind_label, purpose_label

funds_bp = Blueprint("funds", __name__, url_prefix="/funds")

READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor)
ENTRIES_PER_PAGE = 20

def _user():
    return current_user._get_current_object()


def can_write() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.finance)


@funds_bp.context_processor
def fund_helpers():
    """Labels for the fund pages (prefixed: the app's own helpers have a `kind_label` too)."""
    return {"can_write_funds": can_write,
            "fund_entry_kind_label": entry_kind_label,
            # A receipt's purpose is its source (donation / government grant).
            "fund_purpose_label": purpose_label,
            "fund_hold_state_label": lambda state: HOLD_STATE_LABELS.get(state, state),
            "fund_level_label": lambda level: LEVEL_LABELS.get(getattr(level, "value", level), level),
            "fund_level_code": lambda level: getattr(level, "value", level)}


# --- recording a form's operation once (the shared door: `ledger.requests.form_write`) -------------

def _flash_recorded(body: dict, text) -> None:
    flash(text.format(voucher=body.get("voucher_no", "")) if body.get("voucher_no") else text, "success")


def _recorded(text, endpoint: str, **values):
    """`done` for a form that records a voucher: say its number, go to `url_for(endpoint, **values)`."""
    def done(body):
        _flash_recorded(body, text)
        return redirect(url_for(endpoint, **values))
    return done


# --- reading ----------------------------------------------------------------------------------

def _flatten(nodes):
    for node in nodes:
        yield node
        yield from _flatten(node.children)


@funds_bp.get("/")
@login_required
@require_roles(*READERS)
def tree():
    form = AsOfForm(request.args)
    as_of = form.as_of.data if form.validate() else None
    search = query_text("q", 100)
    everything = services.fund_tree(db.session, _user(), as_of=as_of)
    roots = services.fund_tree_matching(everything, search)
    export_format = exports.requested_format()
    if export_format:
        return _tree_export(export_format, roots, as_of)
    query = {key: value for key, value in (("as_of", as_of), ("q", search)) if value}
    return render_template("funds/tree.html", roots=roots, form=form, as_of=as_of, search=search, query=query,
                           open_all=request.args.get("open") == "all" or bool(search),
                           fund_count=sum(1 for _node in _flatten(roots)),
                           fund_count_all=sum(1 for _node in _flatten(everything)))


def _tree_export(export_format, roots, as_of):
    header = [_("Code"), _("Fund"), _("Level"), _("Parent fund"), _("Posted"), _("Pending"), _("Available"),
              _("Available incl. below")]
    rows = ([node.code, fund_name(node.name), str(LEVEL_LABELS.get(node.level, node.level)), node.parent_code or "",
             exports.Money(node.posted_fen), exports.Money(node.pending_fen), exports.Money(node.available_fen),
             exports.Money(node.total_available_fen)] for node in _flatten(roots))
    filename = f"funds-{as_of.isoformat()}" if as_of else "funds"
    return exports.list_file(export_format, filename, _("Funds"), header, rows)


@funds_bp.get("/picker")
@login_required
@require_roles(*READERS)
def picker():
    """The fund picker's answers (`static/fund-picker.js`): the visible funds whose name or code
    contain `q`, at most `limit` (default 20, at most 50), as JSON; 422 naming a bad parameter."""
    raw_limit = request.args.get("limit", "").strip()
    try:
        if raw_limit and not re.fullmatch(r"[0-9]{1,4}", raw_limit, re.ASCII):
            raise ValidationError(fields={"limit": [f"must be a whole number from 1 to "
                                                    f"{services.FUND_PICKER_LIMIT_MAX}"]})
        limit = int(raw_limit) if raw_limit else services.FUND_PICKER_LIMIT_DEFAULT
        choices, more = services.fund_choices(db.session, _user(), query_text("q", services.FUND_PICKER_QUERY_MAX + 1),
                                              limit)
    except ValidationError as error:
        return jsonify(error.to_dict()), 422
    return jsonify({"items": [{"code": choice.code, "name": choice.name, "level": choice.level,
                               "level_label": str(LEVEL_LABELS.get(choice.level, choice.level)),
                               "parent_name": choice.parent_name, "label": named_code(choice.name, choice.code)}
                              for choice in choices],
                    "more": more})


@funds_bp.get("/<code>")
@login_required
@require_roles(*READERS)
def fund(code):
    user = _user()
    form = AsOfForm(request.args)
    as_of = form.as_of.data if form.validate() else None
    fund_row = services.get_fund(db.session, user, code)  # NotFound outside the user's scope
    balance = next(node for node in _flatten(services.fund_tree(db.session, user, as_of=as_of))
                   if node.code == code)
    children = balance.children
    page_number = page_argument()
    page = services.fund_entries(db.session, user, code, page=page_number, per_page=ENTRIES_PER_PAGE)
    holds = services.fund_holds(db.session, user, code)
    pages = max(1, math.ceil(page.total / ENTRIES_PER_PAGE))
    return render_template(
        "funds/fund.html", balance=balance, fund=fund_row, children=children, as_of=as_of, form=form,
        entries=[entry_data(entry, code) for entry in page.items], page=page, pages=pages,
        holds=[hold_data(hold) for hold in holds])


def _entry_filter(form) -> services.EntryFilter:
    return services.EntryFilter(
        date_from=form.date_from.data, date_to=form.date_to.data, kind=form.kind.data or None,
        counterparty=(form.counterparty.data or "").strip() or None, amount_min_fen=form.amount_min.fen,
        amount_max_fen=form.amount_max.fen, fund_code=(form.fund.data or "").strip() or None)


_ENTRY_FILTER_FIELDS = {"date_from": "date_from", "date_to": "date_to", "kind": "kind",
                        "amount_min": "amount_min", "amount_max": "amount_max", "fund": "fund"}


def _entry_filter_refused(form, error: ValidationError) -> None:
    """A filter the service cannot apply, shown at its field like the form's own checks."""
    messages = {"date_to": _("The end date must not be before the start date."),
                "kind": _("Choose a voucher kind from the list."),
                "amount_min": _("Enter an amount of zero or more."),
                "amount_max": _("The largest amount must not be below the smallest."),
                "fund": _("There is no fund with this code that you may see.")}
    for name, field_name in _ENTRY_FILTER_FIELDS.items():
        if name in error.fields:
            getattr(form, field_name).errors = [messages[name]]


def _entry_rows(entries):
    """The voucher list's rows: what the page shows, for the page and for its exports."""
    rows = []
    for entry in entries:
        data = entry_data(entry)
        funds = {posting.account.fund.code: posting.account.fund.name for posting in entry.postings}
        data["funds"] = [(code, funds[code]) for code in sorted(funds)]
        data["amount"] = services.entry_amount_fen(entry)
        data["preparer"] = (data["prepared_by"]["display_name"] if data["prepared_by"]
                            else str(_("the system (no user)")))
        rows.append(data)
    return rows


def _entries_export(export_format, user, wanted):
    def rows():
        page_number = 1
        while True:
            page = services.search_entries(db.session, user, wanted, page=page_number,
                                           per_page=services.ENTRY_LIST_MAX_PER_PAGE)
            for data in _entry_rows(page.items):
                counterparty = data["counterparty"] or {}
                shown_id = (counterparty.get("id_number") or "") if counterparty.get("kind") == "fund" \
                    else exports.masked(counterparty.get("id_number"))
                yield [data["voucher_no"], data["value_on"], str(entry_kind_label(data["kind"])),
                       "; ".join(named_code(name, code) for code, name in data["funds"]),
                       counterparty.get("name") or "", shown_id, data["memo"], exports.Money(data["amount"]),
                       data["preparer"], data["reverses"] or "", data["reversed_by"] or ""]
            if page_number * page.per_page >= page.total:
                return
            page_number += 1
    header = [_("Voucher"), _("Date"), _("Kind"), _("Funds"), _("Counterparty"), _("ID number"), _("Memo"),
              _("Amount"), _("Preparer"), _("Reverses"), _("Reversed by")]
    return exports.list_file(export_format, "vouchers", _("Vouchers"), header, rows())


@funds_bp.get("/entries")
@login_required
@require_roles(*READERS)
def entries():
    user = _user()
    form = EntryFilterForm(request.args)
    form.kind.choices = [SelectChoice("", _("All kinds"))] + [
        SelectChoice(kind.value, str(entry_kind_label(kind.value))) for kind in EntryKind]
    page_number = page_argument()
    status, page, rows = 200, None, []
    if form.validate():
        wanted = _entry_filter(form)
        try:
            export_format = exports.requested_format()
            if export_format:
                return _entries_export(export_format, user, wanted)
            page = services.search_entries(db.session, user, wanted, page=page_number, per_page=ENTRIES_PER_PAGE)
            rows = _entry_rows(page.items)
        except ValidationError as error:
            _entry_filter_refused(form, error)
            status = 422
    else:
        status = 422
    pages = max(1, math.ceil(page.total / ENTRIES_PER_PAGE)) if page else 1
    query = {key: value for key, value in request.args.items() if key not in ("page", "export") and value}
    return render_template("funds/entries.html", form=form, page=page, pages=pages, rows=rows, query=query,
                           fund_options=_fund_choices(user)), status


@funds_bp.get("/entries/<voucher_no>")
@login_required
@require_roles(*READERS)
def entry(voucher_no):
    found = visible_entry(db.session, _user(), voucher_no)
    data = entry_data(found)
    form = ReversalForm() if can_write() and not data["reversed_by"] and data["kind"] != "reversal" else None
    return render_template("funds/entry.html", entry=data, form=form)


def _trial_balance_form(user) -> TrialBalanceForm:
    form = TrialBalanceForm(request.args)
    counties = [county for root in services.fund_tree(db.session, user)
                for county in (root.children if root.level == "city" else [root]) if county.level == "county"]
    form.county.choices = [SelectChoice("", _("All counties"))] + [
        SelectChoice(county.code, named_code(fund_name(county.name), county.code)) for county in counties]
    form.level.choices = [SelectChoice("", _("All levels"))] + [
        SelectChoice(level, str(LEVEL_LABELS[level])) for level in services.FUND_LEVELS]
    return form


@funds_bp.get("/trial-balance")
@login_required
@require_roles(*READERS)
def trial_balance():
    user = _user()
    form = _trial_balance_form(user)
    status, groups = 200, []
    if form.validate():
        try:
            groups = services.trial_balance_groups(db.session, user, as_of=form.as_of.data,
                                                   county_code=form.county.data or None,
                                                   level=form.level.data or None)
        except (ValidationError, NotFound) as error:  # NotFound: a county filter naming no county the user sees
            messages = {"county": _("There is no county fund with this code that you may see."),
                        "level": _("Choose a level from the list.")}
            for name, message in messages.items():
                if name in error.fields:
                    getattr(form, name).errors = [message]
            status = 422
    else:
        status = 422
    as_of = form.as_of.data if status == 200 else None
    data = trial_balance_data([row for group in groups for row in group.rows], as_of)
    export_format = exports.requested_format()
    if export_format and status == 200:
        return _trial_balance_export(export_format, groups, as_of)
    query = {key: value for key, value in request.args.items() if key != "export" and value}
    return render_template("funds/trial_balance.html", data=data, groups=groups, form=form, query=query,
                           as_of=as_of), status


def _trial_balance_export(export_format, groups, as_of):
    header = [_("County"), _("Fund code"), _("Fund"), _("Account code"), _("Account"), _("Debit"), _("Credit"),
              _("Balance")]

    def rows():
        for group in groups:
            for row in group.rows:
                yield [fund_name(group.fund_name), row.fund_code,
                       fund_name(group.fund_names.get(row.fund_code, row.fund_code)), row.account_code,
                       account_name(row.account_name), exports.Money(row.debit_fen),
                       exports.Money(row.credit_fen), exports.Money(row.balance_fen)]
            yield [_("Subtotal: %(fund)s", fund=fund_name(group.fund_name)), "", "", "", "",
                   exports.Money(group.debit_fen),
                   exports.Money(group.credit_fen), exports.Money(group.debit_fen - group.credit_fen)]
        debit, credit = sum(g.debit_fen for g in groups), sum(g.credit_fen for g in groups)
        yield [_("Total"), "", "", "", "", exports.Money(debit), exports.Money(credit), exports.Money(debit - credit)]
    filename = f"trial-balance-{as_of.isoformat()}" if as_of else "trial-balance"
    return exports.list_file(export_format, filename, _("Trial balance"), header, rows())


@funds_bp.get("/verify")
@login_required
@require_roles(*READERS)
def verify():
    result = verify_data(services.verify_journal(db.session, current_user))
    return render_template("funds/verify.html", result=result, checked_at=utcnow())


@funds_bp.get("/periods")
@login_required
@require_roles(*READERS)
def periods():
    close_form = PeriodCloseForm() if current_user.has_role(Role.finance, Role.admin) else None
    if close_form is not None and not close_form.month.data:
        close_form.month.data = services.month_to_close(db.session, current_user) or ""
    return _periods_page(close_form)


def _periods_page(close_form, status=200, reopen_forms=None):
    """The months with who closed or reopened each, when and why; the reopen form on the latest
    closed month only (admins), the one month that may be reopened."""
    history = services.period_history(db.session, current_user)
    rows = [{**period_data(p), "history": history.get(p.month, [])}
            for p in services.list_periods(db.session, current_user)]
    export_format = exports.requested_format() if request.method == "GET" else None
    if export_format:
        header = [_("Month"), _("State"), _("Closed at"), _("Reopened at")]
        return exports.list_file(export_format, "periods", _("Periods"), header, (
            [row["month"], _("Closed") if row["closed"] else _("Open"), to_local(row["closed_at"]),
             to_local(row["reopened_at"])] for row in rows))
    reopen_forms = reopen_forms or {}
    latest = services.latest_closed_month(db.session, current_user)
    if current_user.has_role(Role.admin) and latest and latest not in reopen_forms:
        reopen_forms[latest] = PeriodReopenForm(formdata=None, prefix=latest)
    return render_template("funds/periods.html", periods=rows, close_form=close_form,
                           reopen_forms=reopen_forms), status


# --- writing ----------------------------------------------------------------------------------

def _fund_choices(user) -> list[SelectChoice]:
    """Every visible fund for a picker: the city and the counties first, then the villages
    grouped under their county."""
    top = str(_("City and county funds"))
    options = []
    for root in services.fund_tree(db.session, user):
        counties = root.children if root.level == "city" else [root]
        if root.level == "city":
            options.append(SelectChoice(root.code, named_code(fund_name(root.name), root.code), optgroup=top))
        options.extend(SelectChoice(county.code, named_code(fund_name(county.name), county.code), optgroup=top)
                       for county in counties)
        for county in counties:
            options.extend(SelectChoice(village.code, named_code(fund_name(village.name), village.code),
                                        optgroup=fund_name(county.name))
                           for village in county.children)
    return options


@funds_bp.route("/<code>/receipt", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def receipt(code):
    user = _user()
    balance = services.fund_balance(db.session, user, code)
    form = ReceiptForm()
    if request.method == "POST" and request.form.get("back"):
        # Back from the confirmation page: the form again with what was typed and its one-time key.
        form.confirm_large_amount.data = ""
        return render_template("funds/receipt.html", form=form, balance=balance)
    if (request.method == "POST" and form.confirm_large_amount.data != "yes" and form.validate_on_submit()
            and services.receipt_needs_confirmation(form.amount.fen)):
        # A very large receipt: the amount in figures and in words, the fund and the payer, to confirm.
        form.confirm_large_amount.data = "yes"
        return render_template("funds/receipt_confirm.html", form=form, balance=balance,
                               amount_words=amount_in_words(form.amount.fen),
                               confirm_above_fen=services.large_receipt_confirm_fen())

    def operation(key):
        entry = services.record_receipt(
            db.session, user, code, form.amount.fen, source=form.source.data,
            payer_name=form.payer_name.data.strip(), value_on=form.value_on.data,
            memo=(form.memo.data or "").strip(), idempotency_key=key,
            confirm_large_amount=form.confirm_large_amount.data == "yes")
        return {"voucher_no": entry.voucher_no}
    answer, status = form_write(form, operation, _recorded(_("Receipt recorded: voucher {voucher}."),
                                                        "funds.fund", code=code),
                             {"payer_name": "payer_name"})
    return answer or (render_template("funds/receipt.html", form=form, balance=balance), status)


@funds_bp.route("/allocation", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def allocation():
    user = _user()
    form = AllocationForm()
    choices = _fund_choices(user)
    form.from_fund.choices = [SelectChoice("", _("Choose a fund"))] + choices
    form.to_fund.choices = [SelectChoice("", _("Choose a fund"))] + choices
    if request.method == "GET":
        form.from_fund.data = request.args.get("from", "")
        form.to_fund.data = request.args.get("to", "")

    def operation(key):
        entry = services.allocate(db.session, user, form.from_fund.data, form.to_fund.data, form.amount.fen,
                                  value_on=form.value_on.data, memo=(form.memo.data or "").strip(),
                                  idempotency_key=key)
        return {"voucher_no": entry.voucher_no}
    answer, status = form_write(form, operation, _recorded(_("Allocation recorded: voucher {voucher}."),
                                                        "funds.fund", code=form.from_fund.data),
                             {"from_code": "from_fund", "to_code": "to_fund"})
    return answer or (render_template("funds/allocation.html", form=form), status)


def _payee(form):
    """The payee the form names, or None when it names none (a hold may have no payee yet)."""
    if not form.payee_kind.data:
        return None
    return services.Payee(kind=form.payee_kind.data, name=form.payee_name.data.strip(),
                          id_number=form.payee_id_number.data or None)


@funds_bp.route("/<code>/disbursement", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def disbursement(code):
    user = _user()
    balance = services.fund_balance(db.session, user, code)
    form = DisbursementForm()

    def operation(key):
        entry = services.disburse(db.session, user, code, form.amount.fen, payee=_payee(form),
                                  purpose=form.purpose.data, value_on=form.value_on.data,
                                  memo=(form.memo.data or "").strip(), idempotency_key=key)
        return {"voucher_no": entry.voucher_no}
    answer, status = form_write(form, operation, _recorded(_("Disbursement recorded: voucher {voucher}."),
                                                        "funds.fund", code=code),
                             {"id_number": "payee_id_number", "payee": "payee_id_number", "name": "payee_name"})
    return answer or (render_template("funds/disbursement.html", form=form, balance=balance), status)


@funds_bp.route("/<code>/hold", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def hold(code):
    user = _user()
    balance = services.fund_balance(db.session, user, code)
    form = HoldForm()

    def operation(key):
        placed = services.place_hold(
            db.session, user, code, form.amount.fen, expires_at=utcnow() + timedelta(hours=form.expires_in_hours.data),
            purpose=form.purpose.data, payee=_payee(form), memo=(form.memo.data or "").strip(),
            reference=(form.reference.data or "").strip() or None, idempotency_key=key)
        return {"hold_id": placed.id}

    def done(body):
        flash(_("Hold no. %(number)s placed.", number=body["hold_id"]), "success")
        return redirect(url_for("funds.fund", code=code))
    answer, status = form_write(form, operation, done, {"id_number": "payee_id_number", "expires_at": "expires_in_hours"})
    return answer or (render_template("funds/hold.html", form=form, balance=balance), status)


def _hold_or_404(hold_id: int) -> Hold:
    found = db.session.get(Hold, hold_id)
    if found is None:
        raise NotFound()
    services.get_fund(db.session, _user(), found.fund.code)  # NotFound outside the user's scope
    return found


def _hold_open(held: Hold) -> bool:
    """Whether the hold can still be paid or voided: pending and not past its expiry."""
    data = hold_data(held)
    return data["state"] == "pending" and not data["expired"]


def _hold_page(template: str, form, held: Hold):
    """The pay / void form again, or, when the hold was settled meanwhile (a refusal), the hold's
    facts with the refusal and no buttons."""
    db.session.refresh(held)
    if _hold_open(held):
        return render_template(template, form=form, hold=hold_data(held))
    return render_template("funds/hold_resolved.html", form=form, hold=hold_data(held))


@funds_bp.route("/holds/<int:hold_id>/post", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def post_hold(hold_id):
    held = _hold_or_404(hold_id)
    if not _hold_open(held) and request.method == "GET":
        return render_template("funds/hold_resolved.html", hold=hold_data(held), form=None)
    form = HoldPostForm()

    def operation(key):
        entry = services.post_hold(db.session, _user(), hold_id, form.amount.fen, value_on=form.value_on.data,
                                   memo=(form.memo.data or "").strip(), idempotency_key=key)
        return {"voucher_no": entry.voucher_no}
    answer, status = form_write(form, operation, _recorded(_("Hold paid: voucher {voucher}."),
                                                        "funds.fund", code=held.fund.code))
    return answer or (_hold_page("funds/hold_post.html", form, held), status)


@funds_bp.route("/holds/<int:hold_id>/void", methods=["GET", "POST"])
@login_required
@require_roles(Role.finance)
def void_hold(hold_id):
    held = _hold_or_404(hold_id)
    if not _hold_open(held) and request.method == "GET":
        return render_template("funds/hold_resolved.html", hold=hold_data(held), form=None)
    fund_code = held.fund.code
    form = HoldVoidForm()

    def operation(key):
        voided = services.void_hold(db.session, _user(), hold_id, reason=form.reason.data.strip())
        return {"hold_id": voided.id}

    def done(body):
        flash(_("Hold no. %(number)s released.", number=hold_id), "success")
        return redirect(url_for("funds.fund", code=fund_code))
    answer, status = form_write(form, operation, done)
    return answer or (_hold_page("funds/hold_void.html", form, held), status)


@funds_bp.post("/entries/<voucher_no>/reverse")
@login_required
@require_roles(Role.finance)
def reverse(voucher_no):
    visible_entry(db.session, _user(), voucher_no)  # NotFound outside the user's scope, before the form
    form = ReversalForm()

    def operation(key):
        entry = services.reverse_entry(db.session, _user(), voucher_no, reason=form.reason.data.strip(),
                                       value_on=form.value_on.data, idempotency_key=key)
        return {"voucher_no": entry.voucher_no}

    def done(body):
        _flash_recorded(body, _("Reversal recorded: voucher {voucher}."))
        return redirect(url_for("funds.entry", voucher_no=body["voucher_no"]))
    answer, status = form_write(form, operation, done)
    original = visible_entry(db.session, _user(), voucher_no)  # read again: a refusal rolled back
    return answer or (render_template("funds/entry.html", entry=entry_data(original), form=form), status)


@funds_bp.post("/periods/close")
@login_required
@require_roles(Role.finance, Role.admin)
def close_period():
    """Two steps: the month named, then its confirmation page (pending holds, entries) and the close.
    A month that may not close is refused at the first step, with the service's reason."""
    form = PeriodCloseForm()
    if form.validate_on_submit() and form.confirmed.data != "yes":
        checklist = services.period_close_checklist(db.session, _user(), form.month.data)
        if checklist.closable:
            form.confirmed.data = "yes"
            return render_template("funds/period_close.html", form=form, checklist=checklist)

    def operation(key):
        services.close_period(db.session, _user(), form.month.data)
        return {"month": form.month.data}

    def done(body):
        flash(_("Month %(month)s closed.", month=body["month"]), "success")
        return redirect(url_for("funds.periods"))
    answer, status = form_write(form, operation, done, refusal_field="month")
    return answer or _periods_page(form, status)


@funds_bp.post("/periods/<month>/reopen")
@login_required
@require_roles(Role.admin)
def reopen_period(month):
    form = PeriodReopenForm(prefix=month)
    close_form = PeriodCloseForm(formdata=None)

    def operation(key):
        services.reopen_period(db.session, _user(), month, reason=form.reason.data.strip())
        return {"month": month}

    def done(body):
        flash(_("Month %(month)s reopened.", month=month), "success")
        return redirect(url_for("funds.periods"))
    answer, status = form_write(form, operation, done, refusal_field="reason")
    return answer or _periods_page(close_form, status, {month: form})


def register(app):
    app.register_blueprint(funds_bp)
    add_section("funds.tree", _l("Funds"),
                _l("The city, county and village funds with their balances, entries and holds."),
                [Role.finance, Role.admin, Role.reviewer, Role.auditor], order=20)
    add_section("funds.trial_balance", _l("Trial balance"),
                _l("Every account's debits and credits as of a date, and the journal's integrity check."),
                [Role.finance, Role.admin, Role.auditor, Role.reviewer], order=22)
    add_section("funds.periods", _l("Periods"), _l("Close accounting months; reopen them (administrators)."),
                [Role.finance, Role.admin, Role.auditor], order=24)

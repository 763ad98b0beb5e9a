"""Fund operations: the one door the API, the web pages, the CLI and the tests go through.

INTERFACE CONTRACT (implemented by the fund ledger work; consumed by the API, the web
pages and the reports). Every function takes the SQLAlchemy session and the acting
user (`ledger.auth.models.User`, or None for system jobs such as seed-demo) and
flushes; the caller commits once (one transaction per business operation).

Access is checked here, at the door of every function (`ledger.auth.access`):
`user` is a User or an Actor (None: the system). Reads need `funds.read`, money
movements `funds.write` (finance), closing a month `periods.close`, reopening
`periods.reopen` (admin); a role without the permission gets Forbidden. What is
visible is the actor's fund scope: city-wide people see every fund, a county's
people that county and its villages, charity / vendor users none. A fund outside
scope raises NotFound, exactly like one that does not exist.

Amounts are integer fen. Dates are `datetime.date` (local business dates).

Every money movement goes through the journal's posting engine
(`ledger.journal.posting.post_entry`), which locks the funds, checks the period
and the available balance, numbers and chains the voucher and keeps the
maintained balances. This module adds what a person asked for: scope, payee and
purpose checks, and the shape of each kind of entry (which accounts move).

`idempotency_key` is recorded on the entry for the audit trail; replay
protection of requests is `ledger.idempotency.run_idempotent`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import selectinload

from ..auth.access import Actor, fund_scope, require, sees_region
from ..audit import AuditEvent
from ..auth.models import Region, User
from ..config import LARGE_RECEIPT_CONFIRM_FEN_DEFAULT
from ..errors import AllocationOffTree, ConfirmationRequired, Conflict, NotFound, ValidationError, _l
from ..identity import IdentityNumberError, validate_credit_code, validate_resident_id
from ..journal import holds, periods
from ..journal.balances import account_totals, fund_posted_balances
from ..journal.chain import VerifyResult
from ..journal.chain import verify_journal as verify_chains
from ..journal.dates import check_value_on
from ..journal.errors import AlreadyReversed
from ..journal.holds import expired_pending_by_fund, release_expired_holds
from ..journal.models import (Account, AccountRole, EntryKind, Fund, Hold, HoldState, JournalEntry, Posting,
                              Side)
from ..journal.posting import EntryDraft, Line, lock_funds, post_entry
from ..paging import Page
from ..text import safe_name
from ..money import amount_in_words, fen_to_decimal_string
from ..timeutil import local_today
from .vocabulary import Purpose, ReceiptSource


@dataclass(frozen=True)
class Payee:
    """Who receives a disbursement: a person (resident ID checked) or an organisation."""

    kind: str  # "person" | "organisation"
    name: str
    id_number: str | None = None  # resident ID (person) or unified social credit code (organisation)


@dataclass
class FundBalance:
    code: str
    name: str
    level: str
    parent_code: str | None
    posted_fen: int
    pending_fen: int
    available_fen: int
    children: list["FundBalance"] = field(default_factory=list)
    # Roll-ups: this fund plus everything below it.
    total_posted_fen: int = 0
    total_pending_fen: int = 0
    total_available_fen: int = 0


@dataclass
class TrialBalanceRow:
    account_code: str
    account_name: str
    kind: str
    fund_code: str
    debit_fen: int
    credit_fen: int

    @property
    def balance_fen(self) -> int:
        return self.debit_fen - self.credit_fen


# --- scope -------------------------------------------------------------------------------------------

def _visible_funds(session, actor: Actor, codes) -> dict[str, str]:
    """fund code -> name for each of `codes` that exists and that `actor` may see; NotFound otherwise
    (for the first one that is missing or out of sight). One query: the funds with their regions."""
    codes = list(dict.fromkeys(codes))
    rows = session.execute(_VISIBLE_FUNDS, {"codes": codes}).all()
    visible = {}
    for code, name, region_id, parent_id in rows:
        if actor.is_partner or not sees_region(actor, region_id, parent_id):
            continue
        visible[code] = name
    for code in codes:
        if code not in visible:
            raise NotFound(_l("no fund %(code)s", code=code))
    return visible


_fund_region = Region.__table__.alias("fund_region")
_VISIBLE_FUNDS = (sa.select(Fund.__table__.c.code, Fund.__table__.c.name, Fund.__table__.c.region_id,
                            _fund_region.c.parent_id)
                  .select_from(Fund.__table__.join(_fund_region, _fund_region.c.id == Fund.__table__.c.region_id))
                  .where(Fund.__table__.c.code.in_(sa.bindparam("codes", expanding=True))))


def get_fund(session, user, code: str) -> Fund:
    """The Fund with `code`, or NotFound when it does not exist or is outside the user's scope."""
    actor = require(user, "funds.read")
    fund = session.scalar(sa.select(Fund).where(Fund.code == code, fund_scope(actor)))
    if fund is None:
        raise NotFound(_l("no fund %(code)s", code=code))
    return fund


# --- reading -----------------------------------------------------------------------------------------

def fund_tree(session, user, as_of: date | None = None) -> list[FundBalance]:
    """The visible funds as a tree (roots first) with posted / pending / available and roll-ups.
    With `as_of`, posted balances are as of the end of that day (pending is the current figure)."""
    actor = require(user, "funds.read")

    rows = session.execute(sa.select(Fund.id, Fund.code, Fund.name, Fund.level, Fund.parent_id, Fund.pending_fen)
                           .where(fund_scope(actor)).order_by(Fund.code)).all()
    if not rows:
        return []
    posted = fund_posted_balances(session, as_of)
    expired = expired_pending_by_fund(session)
    parent_codes = dict(session.execute(sa.select(Fund.id, Fund.code)).all())
    nodes: dict[int, FundBalance] = {}
    for row in rows:
        pending = row.pending_fen - expired.get(row.id, 0)
        nodes[row.id] = FundBalance(
            code=row.code, name=row.name, level=getattr(row.level, "value", row.level),
            parent_code=parent_codes.get(row.parent_id), posted_fen=posted.get(row.id, 0), pending_fen=pending,
            available_fen=posted.get(row.id, 0) - pending)
    roots = []
    for row in rows:
        if row.parent_id in nodes:
            nodes[row.parent_id].children.append(nodes[row.id])
        else:
            roots.append(nodes[row.id])
    level_order = {"city": 0, "county": 1, "village": 2}

    def roll_up(node: FundBalance):
        node.children.sort(key=lambda child: (level_order.get(child.level, 9), child.code))
        node.total_posted_fen, node.total_pending_fen = node.posted_fen, node.pending_fen
        for child in node.children:
            roll_up(child)
            node.total_posted_fen += child.total_posted_fen
            node.total_pending_fen += child.total_pending_fen
        node.total_available_fen = node.total_posted_fen - node.total_pending_fen

    roots.sort(key=lambda node: (level_order.get(node.level, 9), node.code))
    for root in roots:
        roll_up(root)
    return roots


def fund_balance(session, user, code: str, as_of: date | None = None) -> FundBalance:
    """One fund's figures with its roll-up (itself and every fund below it)."""
    get_fund(session, user, code)
    stack = list(fund_tree(session, user, as_of))
    while stack:
        node = stack.pop()
        if node.code == code:
            return node
        stack.extend(node.children)
    raise NotFound(_l("no fund %(code)s", code=code))


def fund_entries(session, user, code: str, page: int = 1, per_page: int = 50) -> Page:
    """Entries touching the fund, newest first (items are JournalEntry with postings loaded)."""

    fund = get_fund(session, user, code)
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), 500)
    touching = (sa.select(Posting.entry_id).join(Account, Account.id == Posting.account_id)
                .where(Account.fund_id == fund.id))
    total = session.scalar(sa.select(sa.func.count(sa.distinct(Posting.entry_id)))
                           .join(Account, Account.id == Posting.account_id).where(Account.fund_id == fund.id))
    items = list(session.scalars(
        sa.select(JournalEntry).where(JournalEntry.id.in_(touching))
        .order_by(JournalEntry.value_on.desc(), JournalEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(JournalEntry.postings).joinedload(Posting.account).joinedload(Account.fund),
                 selectinload(JournalEntry.created_by))))
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def fund_holds(session, user, code: str, state: str | None = None) -> list:
    """The fund's holds, newest first; expired ones are released first (so their state reads `expired`)."""

    fund = get_fund(session, user, code)
    release_expired_holds(session, [fund.code])
    query = sa.select(Hold).where(Hold.fund_id == fund.id).order_by(Hold.created_at.desc(), Hold.id.desc())
    if state:
        try:
            query = query.where(Hold.state == HoldState(state))
        except ValueError:
            raise ValidationError(fields={"state": [_l("must be one of %(choices)s",
                                                       choices=", ".join(s.value for s in HoldState))]}) \
                from None
    return list(session.scalars(query.execution_options(populate_existing=True)))


# --- checks ------------------------------------------------------------------------------------------

def _amount(amount_fen) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(fields={"amount": [_l("must be a positive amount")]})
    return amount_fen


def _checked_payee(payee: Payee | None, *, required: bool = True) -> Payee | None:
    if payee is None:
        if required:
            raise ValidationError(fields={"payee": [_l("say who receives the money")]})
        return None
    errors: dict[str, list[str]] = {}
    name = (payee.name or "").strip()
    if not name:
        errors["payee_name"] = [_l("must not be empty")]
    id_number = (payee.id_number or "").strip() or None
    if payee.kind == "person":
        if not id_number:
            errors["payee_id_number"] = [_l("a person's resident ID number is required")]
        else:
            try:
                id_number = validate_resident_id(id_number)
            except IdentityNumberError as error:
                errors["payee_id_number"] = [error.args[0]]
    elif payee.kind == "organisation":
        if id_number:
            try:
                id_number = validate_credit_code(id_number)
            except IdentityNumberError as error:
                errors["payee_id_number"] = [error.args[0]]
    else:
        errors["payee_kind"] = [_l("must be person or organisation")]
    if errors:
        raise ValidationError(fields=errors)
    return Payee(kind=payee.kind, name=name, id_number=id_number)


def _checked_purpose(purpose: str) -> str:
    if purpose not in Purpose.codes():
        raise ValidationError(fields={"purpose": [_l("must be one of %(choices)s",
                                                     choices=", ".join(Purpose.codes()))]})
    return purpose


def _value_on(value_on) -> date:
    """A business date the books accept (`journal.dates`: the opening date to today); the posting
    engine checks it again, this refuses before any lock is taken."""
    if not isinstance(value_on, date) or isinstance(value_on, datetime):
        raise ValidationError(fields={"value_on": [_l("must be a date such as 2026-01-31")]})
    return check_value_on(value_on)


# --- money movements ---------------------------------------------------------------------------------

def large_receipt_confirm_fen() -> int:
    """The largest receipt recorded without a confirmation, in fen (`LARGE_RECEIPT_CONFIRM_FEN`)."""
    if has_app_context():
        return int(current_app.config.get("LARGE_RECEIPT_CONFIRM_FEN", LARGE_RECEIPT_CONFIRM_FEN_DEFAULT))
    return LARGE_RECEIPT_CONFIRM_FEN_DEFAULT


def receipt_needs_confirmation(amount_fen: int) -> bool:
    """Whether a receipt of `amount_fen` is recorded only once confirmed (above the threshold)."""
    return amount_fen > large_receipt_confirm_fen()


def record_receipt(session, user, fund_code: str, amount_fen: int, *, source: str, payer_name: str,
                   value_on: date, memo: str = "", idempotency_key: str | None = None,
                   confirm_large_amount: bool = False):
    """Money in: Dr cash / Cr donation or grant income. Returns the JournalEntry.

    Above `LARGE_RECEIPT_CONFIRM_FEN` the receipt is refused with ConfirmationRequired unless
    `confirm_large_amount` is True (the person saw the amount in figures and in words)."""
    actor = require(user, "funds.write")
    _visible_funds(session, actor, [fund_code])
    _amount(amount_fen)
    if source not in ReceiptSource.codes():
        raise ValidationError(fields={"source": [_l("must be one of %(choices)s",
                                                    choices=", ".join(ReceiptSource.codes()))]})
    if not (payer_name or "").strip():
        raise ValidationError(fields={"payer_name": [_l("say who paid the money in")]})
    threshold = large_receipt_confirm_fen()
    if amount_fen > threshold and confirm_large_amount is not True:
        problem = _l("a receipt above %(threshold)s yuan is recorded only when confirmed: check %(amount)s "
                     "(%(words)s) and send confirm_large_amount: true", threshold=fen_to_decimal_string(threshold),
                     amount=fen_to_decimal_string(amount_fen), words=amount_in_words(amount_fen))
        raise ConfirmationRequired(fields={"confirm_large_amount": [problem]},
                                   amount=fen_to_decimal_string(amount_fen), amount_in_words=amount_in_words(amount_fen),
                                   confirm_above=fen_to_decimal_string(threshold))
    income = AccountRole.donation_income if source == "donation" else AccountRole.grant_income
    return post_entry(session, EntryDraft(
        kind=EntryKind.receipt, value_on=_value_on(value_on), chain_fund_code=fund_code,
        lines=[Line(fund_code, AccountRole.cash, Side.debit, amount_fen),
               Line(fund_code, income, Side.credit, amount_fen)],
        memo=memo or "", purpose=source, counterparty_kind="donor" if source == "donation" else "government",
        counterparty_name=payer_name.strip(), created_by_id=actor.user_id, idempotency_key=idempotency_key))


_FUND_PARENTS = (sa.select(Fund.__table__.c.code, Fund.__table__.c.id, Fund.__table__.c.parent_id)
                 .where(Fund.__table__.c.code.in_(sa.bindparam("codes", expanding=True))))


def allocation_targets(session, from_code: str) -> list[str]:
    """The codes a fund may allocate to: its parent, then its own children (in code order)."""
    parent = Fund.__table__.alias("parent")
    child = Fund.__table__.alias("child")
    source = Fund.__table__
    parent_code = session.scalar(sa.select(parent.c.code).join(source, source.c.parent_id == parent.c.id)
                                 .where(source.c.code == from_code))
    children = session.scalars(sa.select(child.c.code).join(source, child.c.parent_id == source.c.id)
                               .where(source.c.code == from_code).order_by(child.c.code)).all()
    return ([parent_code] if parent_code else []) + list(children)


def _check_along_tree(session, from_code: str, to_code: str) -> None:
    """AllocationOffTree unless one fund is the other's parent.

    City -> village in one step is not allowed either: the county charity project answers for the
    money in its villages, and a direct allocation would pass it by, so that the county's statement
    and its balance of money sent down would no longer show what its villages received. Two
    allocations (city -> county, county -> village) record the same move with both levels in the books.
    """
    rows = {code: (fund_id, parent_id)
            for code, fund_id, parent_id in session.execute(_FUND_PARENTS, {"codes": [from_code, to_code]})}
    (from_id, from_parent), (to_id, to_parent) = rows[from_code], rows[to_code]
    if from_parent == to_id or to_parent == from_id:
        return
    allowed = allocation_targets(session, from_code)
    raise AllocationOffTree(fields={"to_fund": [AllocationOffTree().message]},
                            from_fund=from_code, to_fund=to_code, allowed=allowed)


def allocate(session, user, from_code: str, to_code: str, amount_fen: int, *, value_on: date,
             memo: str = "", idempotency_key: str | None = None):
    """Fund to fund along the tree (city <-> county, county <-> its own villages; `_check_along_tree`).
    InsufficientFunds if the source cannot afford it from its available balance. Returns the JournalEntry.

    Chained and numbered in the source fund (the money leaves it)."""
    actor = require(user, "funds.write")
    _amount(amount_fen)
    if from_code == to_code:
        raise ValidationError(fields={"to": [_l("must be another fund than the source")]})
    names = _visible_funds(session, actor, [from_code, to_code])
    _check_along_tree(session, from_code, to_code)
    return post_entry(session, EntryDraft(
        kind=EntryKind.allocation, value_on=_value_on(value_on), chain_fund_code=from_code,
        lines=[Line(to_code, AccountRole.cash, Side.debit, amount_fen),
               Line(to_code, AccountRole.transfer_in, Side.credit, amount_fen),
               Line(from_code, AccountRole.transfer_out, Side.debit, amount_fen),
               Line(from_code, AccountRole.cash, Side.credit, amount_fen)],
        memo=memo or "", counterparty_kind="fund", counterparty_name=names[to_code],
        counterparty_id_number=to_code, created_by_id=actor.user_id, idempotency_key=idempotency_key))


def disbursement_draft(actor: Actor, fund_code: str, amount_fen: int, *, payee: Payee, purpose: str,
                       value_on: date, memo: str = "", idempotency_key: str | None = None,
                       source_kind: str | None = None, source_id: int | None = None) -> EntryDraft:
    """The entry of a payment to a payee (Dr aid expense / Cr cash), its fields checked: for one
    disbursement or for a payment run of many (`post_entries`). The caller checks access and scope."""
    _amount(amount_fen)
    payee = _checked_payee(payee)
    _checked_purpose(purpose)
    return EntryDraft(
        kind=EntryKind.disbursement, value_on=_value_on(value_on), chain_fund_code=fund_code,
        lines=[Line(fund_code, AccountRole.aid_expense, Side.debit, amount_fen),
               Line(fund_code, AccountRole.cash, Side.credit, amount_fen)],
        memo=memo or "", purpose=purpose, counterparty_kind=payee.kind, counterparty_name=payee.name,
        counterparty_id_number=payee.id_number, created_by_id=actor.user_id, idempotency_key=idempotency_key,
        source_kind=source_kind, source_id=source_id)


def disburse(session, user, fund_code: str, amount_fen: int, *, payee: Payee, purpose: str,
             value_on: date, memo: str = "", idempotency_key: str | None = None):
    """Money out to a payee: Dr aid expense / Cr cash. Returns the JournalEntry."""
    actor = require(user, "funds.write")
    _visible_funds(session, actor, [fund_code])
    return post_entry(session, disbursement_draft(actor, fund_code, amount_fen, payee=payee, purpose=purpose,
                                                  value_on=value_on, memo=memo, idempotency_key=idempotency_key))


def place_hold(session, user, fund_code: str, amount_fen: int, *, expires_at: datetime, purpose: str,
               payee: Payee | None = None, memo: str = "", reference: str | None = None,
               idempotency_key: str | None = None):
    """Reserve money (pending). Returns the Hold."""
    actor = require(user, "funds.write")
    _visible_funds(session, actor, [fund_code])
    _amount(amount_fen)
    _checked_purpose(purpose)
    payee = _checked_payee(payee, required=False)
    if not isinstance(expires_at, datetime):
        raise ValidationError(fields={"expires_at": [_l("must be a date and time")]})
    return holds.place_hold(
        session, fund_code, amount_fen, expires_at=expires_at, created_by_id=actor.user_id, purpose=purpose,
        payee_kind=payee.kind if payee else None, payee_name=payee.name if payee else None,
        payee_id_number=payee.id_number if payee else None, memo=memo or "", reference=reference)


def get_hold(session, user, hold_id: int) -> Hold:
    """The hold, if the actor may see its fund; NotFound otherwise (as if it did not exist)."""
    actor = require(user, "funds.read")
    hold = session.scalar(sa.select(Hold).join(Fund, Fund.id == Hold.fund_id)
                          .where(Hold.id == hold_id, fund_scope(actor)))
    if hold is None:
        raise NotFound(_l("no hold %(hold)s", hold=hold_id))
    return hold


def post_hold(session, user, hold_id: int, amount_fen: int | None = None, *, value_on: date | None = None,
              memo: str = "", idempotency_key: str | None = None):
    """Pay a pending hold, in full (amount None) or in part (the rest is released).
    HoldExpired past its expiry; Conflict if not pending. Returns the JournalEntry."""
    actor = require(user, "funds.write")
    get_hold(session, actor, hold_id)
    if amount_fen is not None:
        _amount(amount_fen)
    return holds.post_hold(session, hold_id, amount_fen, value_on=_value_on(value_on) if value_on else None,
                           memo=memo or "", created_by_id=actor.user_id, idempotency_key=idempotency_key)


def void_hold(session, user, hold_id: int, *, reason: str = ""):
    """Release a pending hold. Returns the Hold."""
    actor = require(user, "funds.write")
    get_hold(session, actor, hold_id)
    return holds.void_hold(session, hold_id, reason=reason or "")


def reverse_entry(session, user, voucher_no: str, *, reason: str, value_on: date | None = None,
                  idempotency_key: str | None = None):
    """A new entry with every posting's side swapped, naming the original.
    AlreadyReversed if it was reversed before; a reversal cannot be reversed. Returns the new entry.

    The reversal is dated `value_on`, by default today: an entry in a closed month
    is corrected in the current open month, never by reopening the past. It is
    chained in the original's chain fund. Whether the original was reversed
    already is checked under that fund's lock, so two racing reversals cannot both
    succeed (and `reverses_entry_id` is unique in the database as well)."""
    actor = require(user, "funds.write")
    if not (reason or "").strip():
        raise ValidationError(fields={"reason": [_l("say why the entry is reversed")]})
    original = session.scalar(sa.select(JournalEntry).where(JournalEntry.voucher_no == voucher_no))
    if original is None:
        raise NotFound(_l("no entry %(voucher)s", voucher=voucher_no))
    chain_fund = session.get(Fund, original.chain_fund_id)
    try:
        get_fund(session, actor, chain_fund.code)
    except NotFound:
        raise NotFound(_l("no entry %(voucher)s", voucher=voucher_no)) from None
    if EntryKind(original.kind) == EntryKind.reversal:
        raise Conflict(_l("%(voucher)s is itself a reversal; it cannot be reversed (record a new entry instead)",
                          voucher=voucher_no))
    value_on = _value_on(value_on) if value_on is not None else local_today()
    if value_on < original.value_on:
        problem = _l("value_on must be on or after %(day)s, the date of the entry it reverses",
                     day=original.value_on.isoformat())
        raise ValidationError(problem, fields={"value_on": [problem]})
    postings = session.execute(sa.select(Fund.code, Account.role, Posting.side, Posting.amount_fen)
                               .join(Account, Account.id == Posting.account_id)
                               .join(Fund, Fund.id == Account.fund_id)
                               .where(Posting.entry_id == original.id).order_by(Posting.id)).all()
    lines = [Line(code, role, Side.credit if Side(side) == Side.debit else Side.debit, amount)
             for code, role, side, amount in postings]
    locked = lock_funds(session, {line.fund_code for line in lines} | {chain_fund.code}, value_on=value_on)
    already = session.scalar(sa.select(JournalEntry.voucher_no).where(JournalEntry.reverses_entry_id == original.id))
    if already:
        raise AlreadyReversed(_l("%(voucher)s was already reversed by %(reversal)s", voucher=voucher_no,
                                 reversal=already), reversed_by=already)
    return post_entry(session, EntryDraft(
        kind=EntryKind.reversal, value_on=value_on, chain_fund_code=chain_fund.code, lines=lines,
        memo=f"冲销 {voucher_no}: {reason.strip()}", purpose=original.purpose,
        counterparty_kind=original.counterparty_kind, counterparty_name=original.counterparty_name,
        counterparty_id_number=original.counterparty_id_number, created_by_id=actor.user_id,
        idempotency_key=idempotency_key, reverses_entry_id=original.id, reversal_reason=reason.strip(),
        source_kind=original.source_kind, source_id=original.source_id),
        locked=locked)


# --- periods, trial balance, integrity ---------------------------------------------------------------

def close_period(session, user, month: str):
    """Close YYYY-MM: entries dated in it are refused from now on (finance or admin). Only a month
    that has ended, and only when the months before it are closed (`journal.periods.check_closable`)."""
    actor = require(user, "periods.close")
    return periods.close_period(session, month, user_id=actor.user_id)


def period_close_checklist(session, user, month: str) -> periods.CloseChecklist:
    """What the person closing `month` confirms: whether it may close and its pending holds (every
    fund's: a close seals the month for the whole city)."""
    require(user, "periods.close")
    return periods.close_checklist(session, month)


def month_to_close(session, user=None) -> str | None:
    """The earliest month of the books that has ended and is still open (None when there is none)."""
    require(user, "funds.read")
    return periods.month_to_close(session)


def latest_closed_month(session, user=None) -> str | None:
    """The one month that may be reopened."""
    require(user, "funds.read")
    return periods.latest_closed_month(session)


@dataclass(frozen=True)
class PeriodEvent:
    """One close or reopen of a month, as the periods page shows it."""

    month: str
    action: str  # "close" or "reopen"
    at: datetime
    by: str  # the user's display name (or username); "" when done by a command without a user
    reason: str


def period_history(session, user=None) -> dict[str, list[PeriodEvent]]:
    """Month -> its closes and reopens, oldest first, from the audit log (who, when and why)."""
    require(user, "funds.read")
    rows = session.execute(
        sa.select(AuditEvent.target, AuditEvent.action, AuditEvent.occurred_at, AuditEvent.detail,
                  User.display_name, User.username)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.action.in_(["period.close", "period.reopen"]))
        .order_by(AuditEvent.occurred_at, AuditEvent.id))
    history: dict[str, list[PeriodEvent]] = {}
    for month, action, at, detail, display_name, username in rows:
        history.setdefault(month, []).append(PeriodEvent(
            month=month, action=action.removeprefix("period."), at=at, by=display_name or username or "",
            reason=(detail or {}).get("reason", "")))
    return history


def reopen_period(session, user, month: str, *, reason: str):
    """Reopen a closed month (admin only), with a reason; logged in the audit log."""
    actor = require(user, "periods.reopen")
    return periods.reopen_period(session, month, user_id=actor.user_id, reason=reason)


def list_periods(session, user=None) -> list:
    require(user, "funds.read")
    return periods.list_periods(session)


def trial_balance(session, user=None, as_of: date | None = None) -> list[TrialBalanceRow]:
    """Every visible account's debit and credit totals as of the date; over every fund they sum to zero.

    Accounts that never moved are left out; rows are in account-code order."""
    actor = require(user, "funds.read")
    totals = account_totals(session, as_of)
    rows = []
    for account in session.execute(sa.select(Account.id, Account.code, Account.name, Account.kind, Fund.code)
                                   .join(Fund, Fund.id == Account.fund_id).where(fund_scope(actor))
                                   .order_by(Account.code)):
        debit, credit = totals.get(account.id, (0, 0))
        if debit or credit:
            rows.append(TrialBalanceRow(account_code=account.code, account_name=account.name,
                                        kind=getattr(account.kind, "value", account.kind),
                                        fund_code=account[4], debit_fen=debit, credit_fen=credit))
    return rows


def verify_journal(session, user=None) -> VerifyResult:
    """Walk the hash chains of the funds the reader may see (the whole city for city roles and
    auditors, a county's funds for its people); see `ledger.journal.chain`."""
    require(user, "funds.read")
    return verify_chains(session, funds_where=fund_scope(user, programme=None))


# --- lists: vouchers searched and filtered -------------------------------------------------------------

@dataclass(frozen=True)
class EntryFilter:
    """What a voucher list is narrowed by; every part optional. Dates are value dates
    (inclusive); amounts are fen, compared with the entry's amount (its largest posting,
    which is what every kind of entry moves); `counterparty` matches part of the name,
    the voucher number or the memo."""

    date_from: date | None = None
    date_to: date | None = None
    kind: str | None = None
    counterparty: str | None = None
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    fund_code: str | None = None


ENTRY_LIST_MAX_PER_PAGE = 500


def _checked_entry_filter(session, actor: Actor, wanted: EntryFilter) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if wanted.date_from and wanted.date_to and wanted.date_from > wanted.date_to:
        errors["date_to"] = [_l("must not be before the start date")]
    if wanted.kind and wanted.kind not in {kind.value for kind in EntryKind}:
        errors["kind"] = [f"must be one of {', '.join(kind.value for kind in EntryKind)}"]
    for name, value in (("amount_min", wanted.amount_min_fen), ("amount_max", wanted.amount_max_fen)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            errors[name] = [_l("must be an amount of zero or more")]
    if (wanted.amount_min_fen is not None and wanted.amount_max_fen is not None and "amount_min" not in errors
            and "amount_max" not in errors and wanted.amount_min_fen > wanted.amount_max_fen):
        errors["amount_max"] = [_l("must not be below the smallest amount")]
    if wanted.fund_code:
        try:
            _visible_funds(session, actor, [wanted.fund_code])
        except NotFound:
            errors["fund"] = [_l("no fund with this code that you may see")]
    return errors


def search_entries(session, user, wanted: EntryFilter | None = None, page: int = 1,
                   per_page: int = 50) -> Page:
    """Vouchers the actor may see (those touching a fund in scope), narrowed by `wanted`,
    newest first. ValidationError names each filter that cannot be applied."""
    actor = require(user, "funds.read")
    wanted = wanted or EntryFilter()
    errors = _checked_entry_filter(session, actor, wanted)
    if errors:
        raise ValidationError(fields=errors)
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), ENTRY_LIST_MAX_PER_PAGE)
    funds = Fund.__table__
    in_scope = (sa.select(Posting.entry_id).join(Account, Account.id == Posting.account_id)
                .join(funds, funds.c.id == Account.fund_id).where(fund_scope(actor, funds)))
    conditions = [JournalEntry.id.in_(in_scope)]
    if wanted.fund_code:
        conditions.append(JournalEntry.id.in_(
            sa.select(Posting.entry_id).join(Account, Account.id == Posting.account_id)
            .join(funds, funds.c.id == Account.fund_id).where(funds.c.code == wanted.fund_code)))
    if wanted.date_from:
        conditions.append(JournalEntry.value_on >= wanted.date_from)
    if wanted.date_to:
        conditions.append(JournalEntry.value_on <= wanted.date_to)
    if wanted.kind:
        conditions.append(JournalEntry.kind == EntryKind(wanted.kind))
    text = (wanted.counterparty or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(sa.or_(JournalEntry.counterparty_name.ilike(pattern, escape="\\"),
                                 JournalEntry.voucher_no.ilike(pattern, escape="\\"),
                                 JournalEntry.memo.ilike(pattern, escape="\\")))
    if wanted.amount_min_fen is not None or wanted.amount_max_fen is not None:
        amount = sa.select(sa.func.max(Posting.amount_fen)).where(Posting.entry_id == JournalEntry.id) \
            .correlate(JournalEntry).scalar_subquery()
        if wanted.amount_min_fen is not None:
            conditions.append(amount >= wanted.amount_min_fen)
        if wanted.amount_max_fen is not None:
            conditions.append(amount <= wanted.amount_max_fen)
    total = session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(*conditions))
    items = list(session.scalars(
        sa.select(JournalEntry).where(*conditions)
        .order_by(JournalEntry.value_on.desc(), JournalEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(JournalEntry.postings).joinedload(Posting.account).joinedload(Account.fund),
                 selectinload(JournalEntry.created_by))))
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def entry_amount_fen(entry: JournalEntry) -> int:
    """What a voucher moves: its largest posting (every kind of entry moves one amount)."""
    return max((posting.amount_fen for posting in entry.postings), default=0)


# --- lists: the trial balance grouped by county ----------------------------------------------------------

FUND_LEVELS = ("city", "county", "village")


@dataclass
class TrialBalanceGroup:
    """The accounts of one county's funds (the county's own and its villages'), or of the city
    fund, with their subtotals. Every fund balances on its own, so each group does too."""

    fund_code: str
    fund_name: str
    level: str
    rows: list[TrialBalanceRow] = field(default_factory=list)
    fund_names: dict[str, str] = field(default_factory=dict)
    fund_levels: dict[str, str] = field(default_factory=dict)

    @property
    def debit_fen(self) -> int:
        return sum(row.debit_fen for row in self.rows)

    @property
    def credit_fen(self) -> int:
        return sum(row.credit_fen for row in self.rows)


def trial_balance_groups(session, user, as_of: date | None = None, county_code: str | None = None,
                         level: str | None = None) -> list[TrialBalanceGroup]:
    """The trial balance of the visible funds, one group per county (and one for the city fund),
    narrowed to one county (`county_code`: its fund and its villages) and / or one `level`.
    ValidationError names the filter that cannot be applied."""
    actor = require(user, "funds.read")
    errors: dict[str, list[str]] = {}
    if level and level not in FUND_LEVELS:
        errors["level"] = [f"must be one of {', '.join(FUND_LEVELS)}"]
    group_of: dict[str, TrialBalanceGroup] = {}
    nodes: dict[str, FundBalance] = {}
    groups: list[TrialBalanceGroup] = []
    for root in fund_tree(session, actor):
        counties = root.children if root.level == "city" else [root]
        if root.level == "city":
            groups.append(TrialBalanceGroup(root.code, root.name, root.level))
            group_of[root.code], nodes[root.code] = groups[-1], root
        for county in counties:
            groups.append(TrialBalanceGroup(county.code, county.name, county.level))
            for node in [county, *county.children]:
                group_of[node.code], nodes[node.code] = groups[-1], node
    for group in groups:
        group.fund_names[group.fund_code] = group.fund_name
    if county_code and (county_code not in group_of or group_of[county_code].fund_code != county_code
                        or group_of[county_code].level != "county"):
        if not errors:  # a filter naming no county the user may see: no such record (404), like a path
            raise NotFound(_l("No county fund %(code)r that you may see.", code=safe_name(county_code)),
                           fields={"county": [_l("no county fund with this code that you may see")]})
        errors["county"] = [_l("no county fund with this code that you may see")]
    if errors:
        raise ValidationError(fields=errors)
    for row in trial_balance(session, actor, as_of=as_of):
        node, group = nodes.get(row.fund_code), group_of.get(row.fund_code)
        if node is None or group is None:
            continue
        if (county_code and group.fund_code != county_code) or (level and node.level != level):
            continue
        group.rows.append(row)
        group.fund_names[node.code] = node.name
        group.fund_levels[node.code] = node.level
    return [group for group in groups if group.rows]


# --- lists: the fund tree searched -------------------------------------------------------------------------

def fund_tree_matching(roots: list[FundBalance], text: str) -> list[FundBalance]:
    """The part of a fund tree (`fund_tree`) whose funds' name or code contain `text`, with the
    ancestors of each match so that a village is still seen under its county and the city.
    Figures are unchanged: a county kept for one matching village still shows its own
    figures and its roll-ups over all its villages (the subtotals of the books, not of the search)."""
    wanted = (text or "").strip().casefold()
    if not wanted:
        return roots

    def kept(node: FundBalance) -> FundBalance | None:
        children = [child for child in (kept(child) for child in node.children) if child is not None]
        if children or wanted in node.name.casefold() or wanted in node.code.casefold():
            copy = FundBalance(**{**node.__dict__, "children": children})
            return copy
        return None

    return [node for node in (kept(root) for root in roots) if node is not None]


# --- the fund picker: funds found by part of their name or code ------------------------------------------

FUND_PICKER_LIMIT_DEFAULT = 20
FUND_PICKER_LIMIT_MAX = 50
FUND_PICKER_QUERY_MAX = 100


@dataclass(frozen=True)
class FundChoice:
    """One fund a picker offers: its code, name and level, and the name of the fund above it."""

    code: str
    name: str
    level: str
    parent_name: str | None


def fund_choices(session, user, text: str = "", limit: int = FUND_PICKER_LIMIT_DEFAULT) -> tuple[list[FundChoice], bool]:
    """The visible funds matching every word of `text` in their name or code or their parent's name
    (every visible fund when `text` is empty),
    at most `limit` (1 to FUND_PICKER_LIMIT_MAX) of them: the city first, then the counties, then the
    villages, each in code order; and whether more funds matched than were returned.

    Scoped like every read: a county's people find their county and its villages only; a fund out of
    scope is never offered. ValidationError names `limit` or `q` when they cannot be used."""
    actor = require(user, "funds.read")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= FUND_PICKER_LIMIT_MAX:
        raise ValidationError(fields={"limit": [f"must be a whole number from 1 to {FUND_PICKER_LIMIT_MAX}"]})
    wanted = (text or "").strip()
    if len(wanted) > FUND_PICKER_QUERY_MAX:
        raise ValidationError(fields={"q": [f"must be at most {FUND_PICKER_QUERY_MAX} characters"]})
    funds, parents = Fund.__table__, Fund.__table__.alias("parent_fund")
    query = (sa.select(funds.c.code, funds.c.name, funds.c.level, parents.c.name)
             .outerjoin(parents, parents.c.id == funds.c.parent_id).where(fund_scope(actor, funds)))
    # Every word typed must be in the fund's name or code or in the name of the fund above it, so
    # that "鱼台 城西" finds Yutai's 城西村 among the city's several 城西.
    for word in wanted.split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(funds.c.name.ilike(pattern, escape="\\"), funds.c.code.ilike(pattern, escape="\\"),
                                   parents.c.name.ilike(pattern, escape="\\")))
    level_order = sa.case((funds.c.level == "city", 0), (funds.c.level == "county", 1), else_=2)
    rows = session.execute(query.order_by(level_order, funds.c.code).limit(limit + 1)).all()
    choices = [FundChoice(code=code, name=name, level=getattr(level, "value", level), parent_name=parent_name)
               for code, name, level, parent_name in rows[:limit]]
    return choices, len(rows) > limit

"""Fund operations: the one door the API, the web pages, the CLI and the tests go through.

INTERFACE CONTRACT (implemented by the fund ledger work; consumed by the API, the web
pages and the reports). Every function takes the SQLAlchemy session and the acting
user (`ledger.auth.models.User`, or None for system jobs such as seed-demo) and
flushes; the caller commits once (one transaction per business operation).

Scoping: `user` limits what is visible. Finance, admin and auditors (and city
reviewers) see every fund; a county reviewer sees its county and that county's
villages; charity / vendor users see none. A fund outside scope raises NotFound.
Role checks for *writes* (finance only) are done by the API / web handlers.

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

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..errors import Conflict, NotFound, ValidationError
from ..identity import IdentityNumberError, validate_credit_code, validate_resident_id
from ..timeutil import local_today


@dataclass(frozen=True)
class Payee:
    """Who receives a disbursement: a person (resident ID checked) or an organisation."""

    kind: str  # "person" | "organisation"
    name: str
    id_number: str | None = None  # resident ID (person) or unified social credit code (organisation)


#: Disbursement purposes (code -> Chinese label); the API takes the code.
PURPOSES = {
    "medical_aid": "医疗救助",
    "temporary_assistance": "临时救助",
    "emergency_aid": "急难救助",
    "care_service": "照护服务",
    "rehabilitation": "康复救助",
    "education_aid": "教育救助",
    "other": "其他",
}

#: Receipt sources (code -> Chinese label).
RECEIPT_SOURCES = {"donation": "捐赠收入", "government": "政府补助收入"}


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


@dataclass
class VerifyResult:
    ok: bool
    entry_count: int
    chain_count: int
    heads: dict[str, str]  # fund code -> head digest
    digest: str  # one digest over all chain heads (sorted by fund code)
    problem: str | None = None  # e.g. "entry JZ-2026-370827-000012 was changed"
    voucher_no: str | None = None
    fund_code: str | None = None
    chain_seq: int | None = None


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int


# --- scope -------------------------------------------------------------------------------------------

def _scope_condition(user):
    """A SQL condition on Fund for what `user` may see (None: everything)."""
    from ..auth.models import Region, Role
    from ..auth.permissions import confined_county_id

    if user is None:
        return sa.true()
    if Role(user.role) in (Role.charity, Role.vendor):
        return sa.false()
    county_id = confined_county_id(user)
    if county_id is None:
        return sa.true()
    from ..journal.models import Fund

    return sa.or_(Fund.region_id == county_id,
                  Fund.region_id.in_(sa.select(Region.id).where(Region.parent_id == county_id)))


_VISIBILITY_QUERIES = []


def _visibility_queries():
    """(funds only, funds with the acting user's role / organisation / region), built once."""
    if not _VISIBILITY_QUERIES:
        from ..auth.models import Organisation, Region, User
        from ..journal.models import Fund

        # Plain tables, not ORM entities: this runs on every money movement.
        funds, users, organisations = Fund.__table__, User.__table__, Organisation.__table__
        fund_region, user_region = Region.__table__.alias("fund_region"), Region.__table__.alias("user_region")
        base = (sa.select(funds.c.code, funds.c.name, funds.c.region_id, fund_region.c.parent_id)
                .select_from(funds.join(fund_region, fund_region.c.id == funds.c.region_id))
                .where(funds.c.code.in_(sa.bindparam("codes", expanding=True))))
        with_user = (base.add_columns(users.c.role, organisations.c.kind, user_region.c.level, user_region.c.id,
                                      user_region.c.parent_id)
                     .join(users, users.c.id == sa.bindparam("user_id"))
                     .join(organisations, organisations.c.id == users.c.organisation_id)
                     .join(user_region, user_region.c.id == organisations.c.region_id))
        _VISIBILITY_QUERIES.extend([base, with_user])
    return _VISIBILITY_QUERIES


#: The same query as `_visibility_queries()[1]`, for PostgreSQL's driver directly (prepared once per
#: connection): it runs before every money movement, where the SQL-expression layer's own work per
#: call costs more than the query. One fund is looked up by equality, so that the statement's
#: cached plan is the index lookup.
_VISIBLE_FUNDS_POSTGRES = (
    "SELECT funds.code, funds.name, funds.region_id, fund_region.parent_id, users.role, organisations.kind, "
    "user_region.level, user_region.id, user_region.parent_id "
    "FROM funds JOIN regions AS fund_region ON fund_region.id = funds.region_id "
    "JOIN users ON users.id = %s "
    "JOIN organisations ON organisations.id = users.organisation_id "
    "JOIN regions AS user_region ON user_region.id = organisations.region_id "
    "WHERE funds.code {}")
_VISIBLE_FUND_POSTGRES = _VISIBLE_FUNDS_POSTGRES.format("= %s::text")
_VISIBLE_FUNDS_POSTGRES = _VISIBLE_FUNDS_POSTGRES.format("= ANY (%s::text::text[])")


def _visible_funds(session, user, codes) -> dict[str, str]:
    """fund code -> name for each of `codes` that exists and that `user` may see; NotFound otherwise.

    The write path's check, in one round trip: the user's role, organisation and
    region are read with the funds (no ORM refresh of an expired user), and the
    rule is `ledger.auth.permissions.confined_county_id`: admins, auditors and
    city-wide organisations see every fund, others their county and its villages,
    charity and vendor users none.
    """
    from ..auth.models import OrganisationKind, RegionLevel, Role
    from ..journal.posting import driver_fetch, pg_text_array

    codes = list(dict.fromkeys(codes))
    if user is None:
        rows = session.execute(_visibility_queries()[0], {"codes": codes})
    elif session.get_bind().dialect.name == "postgresql":
        if len(codes) == 1:
            rows = driver_fetch(session, _VISIBLE_FUND_POSTGRES, (_user_id(user), codes[0]))
        else:
            rows = driver_fetch(session, _VISIBLE_FUNDS_POSTGRES, (_user_id(user), pg_text_array(codes)))
    else:
        rows = session.execute(_visibility_queries()[1], {"codes": codes, "user_id": sa.inspect(user).identity[0]})
    visible = {}
    for row in rows:  # code, name, region, region's parent[, role, organisation kind, its region's level, id, parent]
        if user is not None:
            role, org_kind, level = Role(row[4]), OrganisationKind(row[5]), RegionLevel(row[6])
            if role in (Role.charity, Role.vendor):
                continue
            if role not in (Role.admin, Role.auditor) and level != RegionLevel.city \
                    and org_kind != OrganisationKind.city_bureau:
                county = row[7] if level == RegionLevel.county else row[8]
                if county not in (row[2], row[3]):
                    continue
        visible[row[0]] = row[1]
    for code in codes:
        if code not in visible:
            raise NotFound(f"no fund {code}")
    return visible


#: `_visible_funds`'s rule for one fund as a SQL condition (parameters: user id, fund code), for
#: PostgreSQL, where it is checked inside the posting's own statement (`posting.PostingGuard`):
#: a money movement then costs no separate round trip for its scope check. A user sees nothing as
#: charity or vendor; everything as admin or auditor, or in a city-level or city-bureau
#: organisation; otherwise the funds of their county (their region, or its parent) and its villages.
#: No row (an unknown fund) is not true either.
_SCOPE_GUARD_POSTGRES = (
    "SELECT users.role NOT IN ('charity', 'vendor') AND ("
    "users.role IN ('admin', 'auditor') OR user_region.level = 'city' OR organisations.kind = 'city_bureau' "
    "OR (CASE WHEN user_region.level = 'county' THEN user_region.id ELSE user_region.parent_id END) "
    "IS NOT DISTINCT FROM funds.region_id "
    "OR (CASE WHEN user_region.level = 'county' THEN user_region.id ELSE user_region.parent_id END) "
    "IS NOT DISTINCT FROM fund_region.parent_id) "
    "FROM users JOIN organisations ON organisations.id = users.organisation_id "
    "JOIN regions AS user_region ON user_region.id = organisations.region_id "
    "CROSS JOIN funds JOIN regions AS fund_region ON fund_region.id = funds.region_id "
    "WHERE users.id = %s AND funds.code = %s")


def _post_in_scope(session, user, fund_code: str, make_draft):
    """Post the entry `make_draft()` builds, on a fund that `user` must see (NotFound otherwise,
    before anything else is checked, as `_visible_funds` does)."""
    from ..journal.posting import PostingGuard, post_entry

    if user is None or session.get_bind().dialect.name != "postgresql":
        _visible_funds(session, user, [fund_code])
        return post_entry(session, make_draft())
    try:
        draft = make_draft()
    except ValidationError:
        _visible_funds(session, user, [fund_code])  # an unseen fund is not found before a bad field
        raise
    return post_entry(session, draft, guard=PostingGuard(
        _SCOPE_GUARD_POSTGRES, (_user_id(user), fund_code), NotFound(f"no fund {fund_code}")))


def get_fund(session, user, code: str):
    """The Fund with `code`, or NotFound when it does not exist or is outside the user's scope."""
    from ..journal.models import Fund

    fund = session.scalar(sa.select(Fund).where(Fund.code == code, _scope_condition(user)))
    if fund is None:
        raise NotFound(f"no fund {code}")
    return fund


# --- reading -----------------------------------------------------------------------------------------

def fund_tree(session, user, as_of: date | None = None) -> list[FundBalance]:
    """The visible funds as a tree (roots first) with posted / pending / available and roll-ups.
    With `as_of`, posted balances are as of the end of that day (pending is the current figure)."""
    from ..journal.balances import fund_posted_balances
    from ..journal.holds import expired_pending_by_fund
    from ..journal.models import Fund

    rows = session.execute(sa.select(Fund.id, Fund.code, Fund.name, Fund.level, Fund.parent_id, Fund.pending_fen)
                           .where(_scope_condition(user)).order_by(Fund.code)).all()
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
    raise NotFound(f"no fund {code}")


def fund_entries(session, user, code: str, page: int = 1, per_page: int = 50) -> Page:
    """Entries touching the fund, newest first (items are JournalEntry with postings loaded)."""
    from ..journal.models import Account, JournalEntry, Posting

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
        .options(selectinload(JournalEntry.postings).joinedload(Posting.account).joinedload(Account.fund))))
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def fund_holds(session, user, code: str, state: str | None = None) -> list:
    """The fund's holds, newest first; expired ones are released first (so their state reads `expired`)."""
    from ..journal.holds import release_expired_holds
    from ..journal.models import Hold, HoldState

    fund = get_fund(session, user, code)
    release_expired_holds(session, [fund.code])
    query = sa.select(Hold).where(Hold.fund_id == fund.id).order_by(Hold.created_at.desc(), Hold.id.desc())
    if state:
        try:
            query = query.where(Hold.state == HoldState(state))
        except ValueError:
            raise ValidationError(fields={"state": [f"must be one of {', '.join(s.value for s in HoldState)}"]}) \
                from None
    return list(session.scalars(query.execution_options(populate_existing=True)))


# --- checks ------------------------------------------------------------------------------------------

def _amount(amount_fen) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(fields={"amount": ["must be a positive amount"]})
    return amount_fen


def _checked_payee(payee: Payee | None, *, required: bool = True) -> Payee | None:
    if payee is None:
        if required:
            raise ValidationError(fields={"payee": ["say who receives the money"]})
        return None
    errors: dict[str, list[str]] = {}
    name = (payee.name or "").strip()
    if not name:
        errors["payee_name"] = ["must not be empty"]
    id_number = (payee.id_number or "").strip() or None
    if payee.kind == "person":
        if not id_number:
            errors["payee_id_number"] = ["a person's resident ID number is required"]
        else:
            try:
                id_number = _resident_id(id_number)
            except IdentityNumberError as error:
                errors["payee_id_number"] = [str(error)]
    elif payee.kind == "organisation":
        if id_number:
            try:
                id_number = validate_credit_code(id_number)
            except IdentityNumberError as error:
                errors["payee_id_number"] = [str(error)]
    else:
        errors["payee_kind"] = ["must be person or organisation"]
    if errors:
        raise ValidationError(fields=errors)
    return Payee(kind=payee.kind, name=name, id_number=id_number)


@functools.lru_cache(maxsize=4096)
def _resident_id(value: str) -> str:
    """validate_resident_id, remembered: the check reads the region code table, and the same
    payees come back again and again in a payment run."""
    return validate_resident_id(value)


def _checked_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValidationError(fields={"purpose": [f"must be one of {', '.join(PURPOSES)}"]})
    return purpose


def _value_on(value_on) -> date:
    if not isinstance(value_on, date) or isinstance(value_on, datetime):
        raise ValidationError(fields={"value_on": ["must be a date such as 2026-01-31"]})
    return value_on


def _user_id(user):
    """The user's id without refreshing an expired user object (one query saved per operation)."""
    return sa.inspect(user).identity[0] if user is not None else None


# --- money movements ---------------------------------------------------------------------------------

def record_receipt(session, user, fund_code: str, amount_fen: int, *, source: str, payer_name: str,
                   value_on: date, memo: str = "", idempotency_key: str | None = None):
    """Money in: Dr cash / Cr donation or grant income. Returns the JournalEntry."""
    from ..journal.models import AccountRole, EntryKind, Side
    from ..journal.posting import EntryDraft, Line

    _amount(amount_fen)
    if source not in RECEIPT_SOURCES:
        raise ValidationError(fields={"source": [f"must be one of {', '.join(RECEIPT_SOURCES)}"]})
    if not (payer_name or "").strip():
        raise ValidationError(fields={"payer_name": ["say who paid the money in"]})
    income = AccountRole.donation_income if source == "donation" else AccountRole.grant_income
    return _post_in_scope(session, user, fund_code, lambda: EntryDraft(
        kind=EntryKind.receipt, value_on=_value_on(value_on), chain_fund_code=fund_code,
        lines=[Line(fund_code, AccountRole.cash, Side.debit, amount_fen),
               Line(fund_code, income, Side.credit, amount_fen)],
        memo=memo or "", purpose=source, counterparty_kind="donor" if source == "donation" else "government",
        counterparty_name=payer_name.strip(), created_by_id=_user_id(user), idempotency_key=idempotency_key))


def allocate(session, user, from_code: str, to_code: str, amount_fen: int, *, value_on: date,
             memo: str = "", idempotency_key: str | None = None):
    """Fund to fund (city -> county -> village and back). InsufficientFunds if the source
    cannot afford it from its available balance. Returns the JournalEntry.

    Chained and numbered in the source fund (the money leaves it)."""
    from ..journal.models import AccountRole, EntryKind, Side
    from ..journal.posting import EntryDraft, Line, post_entry

    _amount(amount_fen)
    if from_code == to_code:
        raise ValidationError(fields={"to": ["must be another fund than the source"]})
    names = _visible_funds(session, user, [from_code, to_code])
    return post_entry(session, EntryDraft(
        kind=EntryKind.allocation, value_on=_value_on(value_on), chain_fund_code=from_code,
        lines=[Line(to_code, AccountRole.cash, Side.debit, amount_fen),
               Line(to_code, AccountRole.transfer_in, Side.credit, amount_fen),
               Line(from_code, AccountRole.transfer_out, Side.debit, amount_fen),
               Line(from_code, AccountRole.cash, Side.credit, amount_fen)],
        memo=memo or "", counterparty_kind="fund", counterparty_name=names[to_code],
        counterparty_id_number=to_code, created_by_id=_user_id(user), idempotency_key=idempotency_key))


def disburse(session, user, fund_code: str, amount_fen: int, *, payee: Payee, purpose: str,
             value_on: date, memo: str = "", idempotency_key: str | None = None):
    """Money out to a payee: Dr aid expense / Cr cash. Returns the JournalEntry."""
    from ..journal.models import AccountRole, EntryKind, Side
    from ..journal.posting import EntryDraft, Line

    _amount(amount_fen)
    payee = _checked_payee(payee)
    _checked_purpose(purpose)
    return _post_in_scope(session, user, fund_code, lambda: EntryDraft(
        kind=EntryKind.disbursement, value_on=_value_on(value_on), chain_fund_code=fund_code,
        lines=[Line(fund_code, AccountRole.aid_expense, Side.debit, amount_fen),
               Line(fund_code, AccountRole.cash, Side.credit, amount_fen)],
        memo=memo or "", purpose=purpose, counterparty_kind=payee.kind, counterparty_name=payee.name,
        counterparty_id_number=payee.id_number, created_by_id=_user_id(user), idempotency_key=idempotency_key))


def place_hold(session, user, fund_code: str, amount_fen: int, *, expires_at: datetime, purpose: str,
               payee: Payee | None = None, memo: str = "", reference: str | None = None,
               idempotency_key: str | None = None):
    """Reserve money (pending). Returns the Hold."""
    from ..journal import holds

    _amount(amount_fen)
    _checked_purpose(purpose)
    payee = _checked_payee(payee, required=False)
    if not isinstance(expires_at, datetime):
        raise ValidationError(fields={"expires_at": ["must be a date and time"]})
    _visible_funds(session, user, [fund_code])
    return holds.place_hold(
        session, fund_code, amount_fen, expires_at=expires_at, created_by_id=_user_id(user), purpose=purpose,
        payee_kind=payee.kind if payee else None, payee_name=payee.name if payee else None,
        payee_id_number=payee.id_number if payee else None, memo=memo or "", reference=reference)


def _visible_hold(session, user, hold_id: int):
    from ..journal.models import Fund, Hold

    fund_code = session.scalar(sa.select(Fund.code).join(Hold, Hold.fund_id == Fund.id).where(Hold.id == hold_id))
    if fund_code is None:
        raise NotFound(f"no hold {hold_id}")
    try:
        _visible_funds(session, user, [fund_code])
    except NotFound:
        raise NotFound(f"no hold {hold_id}") from None


def post_hold(session, user, hold_id: int, amount_fen: int | None = None, *, value_on: date | None = None,
              memo: str = "", idempotency_key: str | None = None):
    """Pay a pending hold, in full (amount None) or in part (the rest is released).
    HoldExpired past its expiry; Conflict if not pending. Returns the JournalEntry."""
    from ..journal import holds

    _visible_hold(session, user, hold_id)
    if amount_fen is not None:
        _amount(amount_fen)
    return holds.post_hold(session, hold_id, amount_fen, value_on=_value_on(value_on) if value_on else None,
                           memo=memo or "", created_by_id=_user_id(user), idempotency_key=idempotency_key)


def void_hold(session, user, hold_id: int, *, reason: str = ""):
    """Release a pending hold. Returns the Hold."""
    from ..journal import holds

    _visible_hold(session, user, hold_id)
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
    from ..journal.errors import AlreadyReversed
    from ..journal.models import Account, EntryKind, Fund, JournalEntry, Posting, Side
    from ..journal.posting import EntryDraft, Line, lock_funds, post_entry

    if not (reason or "").strip():
        raise ValidationError(fields={"reason": ["say why the entry is reversed"]})
    original = session.scalar(sa.select(JournalEntry).where(JournalEntry.voucher_no == voucher_no))
    if original is None:
        raise NotFound(f"no entry {voucher_no}")
    chain_fund = session.get(Fund, original.chain_fund_id)
    try:
        get_fund(session, user, chain_fund.code)
    except NotFound:
        raise NotFound(f"no entry {voucher_no}") from None
    if EntryKind(original.kind) == EntryKind.reversal:
        raise Conflict(f"{voucher_no} is itself a reversal; it cannot be reversed (record a new entry instead)")
    value_on = _value_on(value_on) if value_on is not None else local_today()
    postings = session.execute(sa.select(Fund.code, Account.role, Posting.side, Posting.amount_fen)
                               .join(Account, Account.id == Posting.account_id)
                               .join(Fund, Fund.id == Account.fund_id)
                               .where(Posting.entry_id == original.id).order_by(Posting.id)).all()
    lines = [Line(code, role, Side.credit if Side(side) == Side.debit else Side.debit, amount)
             for code, role, side, amount in postings]
    locked = lock_funds(session, {line.fund_code for line in lines} | {chain_fund.code}, value_on=value_on)
    already = session.scalar(sa.select(JournalEntry.voucher_no).where(JournalEntry.reverses_entry_id == original.id))
    if already:
        raise AlreadyReversed(f"{voucher_no} was already reversed by {already}", reversed_by=already)
    return post_entry(session, EntryDraft(
        kind=EntryKind.reversal, value_on=value_on, chain_fund_code=chain_fund.code, lines=lines,
        memo=f"冲销 {voucher_no}: {reason.strip()}", purpose=original.purpose,
        counterparty_kind=original.counterparty_kind, counterparty_name=original.counterparty_name,
        counterparty_id_number=original.counterparty_id_number, created_by_id=_user_id(user),
        idempotency_key=idempotency_key, reverses_entry_id=original.id, reversal_reason=reason.strip()),
        locked=locked)


# --- periods, trial balance, integrity ---------------------------------------------------------------

def close_period(session, user, month: str):
    """Close YYYY-MM: entries dated in it are refused from now on."""
    from ..journal import periods

    return periods.close_period(session, user, month)


def reopen_period(session, user, month: str, *, reason: str):
    """Admin only (checked here too); logged as an AuditEvent."""
    from ..journal import periods

    return periods.reopen_period(session, user, month, reason=reason)


def list_periods(session) -> list:
    from ..journal import periods

    return periods.list_periods(session)


def trial_balance(session, as_of: date | None = None) -> list[TrialBalanceRow]:
    """Every account's debit and credit totals as of the date; they sum to zero.

    Accounts that never moved are left out; rows are in account-code order."""
    from ..journal.balances import account_totals
    from ..journal.models import Account, Fund

    totals = account_totals(session, as_of)
    rows = []
    for account in session.execute(sa.select(Account.id, Account.code, Account.name, Account.kind, Fund.code)
                                   .join(Fund, Fund.id == Account.fund_id).order_by(Account.code)):
        debit, credit = totals.get(account.id, (0, 0))
        if debit or credit:
            rows.append(TrialBalanceRow(account_code=account.code, account_name=account.name,
                                        kind=getattr(account.kind, "value", account.kind),
                                        fund_code=account[4], debit_fen=debit, credit_fen=credit))
    return rows


def verify_journal(session) -> VerifyResult:
    """Walk every fund's hash chain; see `ledger.journal.chain`."""
    from ..journal.chain import verify_journal as verify

    return verify(session)

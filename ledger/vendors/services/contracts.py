"""Care-service contracts (照护服务合同): drafted, activated (the ceiling committed), amended, ended.

The life of a contract (`CONTRACT_MACHINE`, the only writer of `Contract.state`, each move
audited as `care_contract.<action>` with the contract's number):

    draft --activate--> active --suspend--> suspended --resume--> active
                        active --end------> ended <------end----- suspended

* **Activating** commits the ceiling: one pending hold on the county's care budget fund
  (`journal.holds.place_hold`), for the current version's ceiling less what the contract's holds
  have paid so far, expiring at the end of the term plus `SETTLEMENT_MARGIN_DAYS` (the last
  month's visits are verified, resolved and invoiced after the term: a held visit may be resolved
  for 95 days), but no later than the journal allows a hold to run (`HOLD_MAX_DAYS`). A fund that
  cannot afford it refuses with the journal's own `InsufficientFunds`, and nothing changes.
* **Suspending** keeps the commitment (the money stays reserved for the care already given);
  **resuming** finds it in place.
* **Ending** voids the pending hold: what was not paid goes back to the fund's available money.
* **Amending** adds a version (`ContractVersion`) with its effective date; no version is ever
  changed. Prices, minimums, penalty rate and ceiling are per version. When the ceiling changes
  on a contract that holds a commitment, the commitment is *voided and replaced*, in the same
  transaction, by one hold for the new ceiling less what has been paid. Void-and-replace rather
  than a second hold for an increase, because the journal pays a hold once (the rest is
  released) and an invoice must find exactly one commitment to pay from: one live hold per
  contract, `Contract.hold_id`. Both moves run under the fund's lock; an increase the fund cannot
  afford is refused by `place_hold` and the whole amendment rolls back, old hold and all, so the
  commitment is never lost in between. A decrease below what has been paid is refused.

The one API other features use: `contract_on(session, vendor_id, county, day)`,
`version_on(contract, day)`, `price_on(contract, care_level, day)`,
`minimums_on(contract, care_level, day)`, and `Contract.hold_id` (the commitment to pay from;
`commitment(session, contract)` gives its figures).

Who: admin and finance draft, activate, amend, suspend, resume and end; finance, admin and
auditors read every contract; a county's reviewers read their county's; a vendor its own
(`contract_scope`; others answer 404). Contract numbers read HT-<year>-<county code>-<nnn>,
numbered per year and county under the lock of the county's care fund, so that two drafts at once
take the next two numbers (the unique number is the database's check of it).

Concurrency: drafting and activating lock the county's care fund first (the journal's fund lock,
the same one every hold on it takes), then look: two activations of one vendor's contracts in one
county run one after the other, and the second finds the first active (`ContractOverlaps`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...audit import record_event
from ...auth.access import Actor, require
from ...auth.models import Region, RegionLevel
from ...errors import Conflict, NotFound, ValidationError, _l
from ...journal import holds
from ...journal.dates import HOLD_MAX_DAYS
from ...journal.models import Fund, Hold, HoldState
from ...journal.posting import lock_funds
from ...money import MAX_AMOUNT_FEN
from ...paging import Page
from ...statemachine import StateMachine
from ...text import text_problem
from ...timeutil import LOCAL_TZ, as_utc, utcnow
from ..models import CareLevel, Contract, ContractState, ContractVersion, VendorProfile, VendorStatus
from .budgets import county_care_fund
from .vendors import get_vendor, own_vendor_ids

#: Days after the term during which the contract's commitment still binds (settlement).
SETTLEMENT_MARGIN_DAYS = 95
#: The longest term a contract may have.
TERM_DAYS_MAX = 3 * 366
#: As large as an amount may be at the edge (`ledger.money`): the schema and the service agree.
CEILING_FEN_MAX = PRICE_FEN_MAX = MAX_AMOUNT_FEN
VISITS_MAX = 62
MINUTES_MAX = 1440
NOTE_MAX = 500
HOLD_PURPOSE = "care_service"

CONTRACT_MACHINE = StateMachine(
    name="care_contract", states=ContractState,
    transitions={(ContractState.draft, "activate"): ContractState.active,
                 (ContractState.active, "suspend"): ContractState.suspended,
                 (ContractState.suspended, "resume"): ContractState.active,
                 (ContractState.active, "end"): ContractState.ended,
                 (ContractState.suspended, "end"): ContractState.ended})

#: States in which a contract holds its commitment.
COMMITTED_STATES = (ContractState.active, ContractState.suspended)


class ContractOverlaps(Conflict):
    """This vendor already has an active contract in this county for part of this term.

    Rule: on any day a vendor serves a county under one contract, so that each visit has one price."""

    code = "contract_overlaps"


class ContractEnded(Conflict):
    """This contract has ended; it can no longer be amended.

    Rule: an ended contract's commitment is released; new terms need a new contract."""

    code = "contract_ended"


class VendorSuspended(Conflict):
    """This vendor is suspended: its contracts cannot be activated until it is active again."""

    code = "vendor_suspended"


@dataclass(frozen=True)
class Terms:
    """What a version of a contract says (amounts in fen; minimums per person per month and per visit)."""

    ceiling_fen: int
    penalty_per_mille: int
    price_self_caring_fen: int
    price_partly_disabled_fen: int
    price_fully_disabled_fen: int
    visits_min_self_caring: int
    visits_min_partly_disabled: int
    visits_min_fully_disabled: int
    minutes_min_self_caring: int
    minutes_min_partly_disabled: int
    minutes_min_fully_disabled: int

    @classmethod
    def names(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    @classmethod
    def of(cls, version: ContractVersion) -> "Terms":
        return cls(**{name: getattr(version, name) for name in cls.names()})


#: Each term's bounds: (least, most).
TERM_BOUNDS = {"ceiling_fen": (1, CEILING_FEN_MAX), "penalty_per_mille": (0, 1000),
               **{f"price_{level.value}_fen": (0, PRICE_FEN_MAX) for level in CareLevel},
               **{f"visits_min_{level.value}": (0, VISITS_MAX) for level in CareLevel},
               **{f"minutes_min_{level.value}": (0, MINUTES_MAX) for level in CareLevel}}


class Minimums(NamedTuple):
    visits_per_month: int
    minutes_per_visit: int


@dataclass(frozen=True)
class Commitment:
    """A contract's money: its ceiling, the pending hold, what its holds have paid, what remains."""

    ceiling_fen: int
    committed_fen: int
    posted_fen: int
    hold_id: int | None
    hold_expires_at: datetime | None

    @property
    def remaining_fen(self) -> int:
        return self.ceiling_fen - self.posted_fen


# --- scope and reading -------------------------------------------------------------------------------

def contract_scope(actor: Actor):
    """A SQL condition on Contract for what the actor may see (see the module docstring)."""
    if actor.is_partner:
        return Contract.vendor_id.in_(own_vendor_ids(actor))
    if actor.city_wide:
        return sa.true()
    return Contract.county_id == actor.county_id


def get_contract(session, who, contract_id: int) -> Contract:
    """The contract with its versions, if the actor may see it; NotFound (404) otherwise."""
    actor = require(who, "care.contracts.read")
    contract = session.scalar(sa.select(Contract).where(Contract.id == contract_id, contract_scope(actor))
                              .options(selectinload(Contract.versions)))
    if contract is None:
        raise NotFound(_l("no contract %(id)s", id=contract_id))
    return contract


def list_contracts(session, who, *, vendor_id: int | None = None, county_code: str | None = None,
                   state: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Contracts in sight by number, narrowed to a vendor, a county or a state."""
    actor = require(who, "care.contracts.read")
    conditions = [contract_scope(actor)]
    if vendor_id is not None:
        conditions.append(Contract.vendor_id == vendor_id)
    if county_code:
        conditions.append(Contract.county_id.in_(sa.select(Region.id).where(Region.code == county_code)))
    if state:
        try:
            conditions.append(Contract.state == ContractState(state))
        except ValueError:
            raise ValidationError(fields={"state": [_l("must be one of %(choices)s",
                                                       choices=", ".join(s.value for s in ContractState))]}) from None
    where = sa.and_(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(Contract).where(where))
    items = list(session.scalars(sa.select(Contract).where(where).options(selectinload(Contract.versions))
                                 .order_by(Contract.number).offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def version_on(contract: Contract, day: date) -> ContractVersion | None:
    """The version in effect on `day`: the latest one effective on or before it (None before the first)."""
    current = None
    for version in sorted(contract.versions, key=lambda item: item.effective_on):
        if version.effective_on <= day:
            current = version
    return current


def current_version(contract: Contract) -> ContractVersion:
    return max(contract.versions, key=lambda item: item.version_no)


def _version_for(contract: Contract, day: date) -> ContractVersion:
    version = version_on(contract, day)
    if version is None or not contract.starts_on <= day <= contract.ends_on:
        raise NotFound(_l("contract %(number)s does not cover %(day)s", number=contract.number, day=day.isoformat()))
    return version


def price_on(contract: Contract, care_level, day: date) -> int:
    """The price in fen per person-month of `care_level` on `day` (NotFound outside the term)."""
    return _version_for(contract, day).price_fen(care_level)


def minimums_on(contract: Contract, care_level, day: date) -> Minimums:
    """The minimum visits per person per month and minutes per visit of `care_level` on `day`."""
    version = _version_for(contract, day)
    return Minimums(version.visits_min(care_level), version.minutes_min(care_level))


def contract_on(session, vendor_id: int, county, day: date) -> Contract | None:
    """The contract under which `vendor_id` serves `county` (a region id, or a county code) on `day`:
    not a draft, its term covering the day; an active or suspended one before an ended one. No access
    check: a service calling it has checked its own actor."""
    if isinstance(county, str):
        county_id = sa.select(Region.id).where(Region.code == county).scalar_subquery()
    else:
        county_id = county
    rank = sa.case((Contract.state.in_([s.value for s in COMMITTED_STATES]), 0), else_=1)
    return session.scalar(sa.select(Contract).where(
        Contract.vendor_id == vendor_id, Contract.county_id == county_id, Contract.state != ContractState.draft,
        Contract.starts_on <= day, Contract.ends_on >= day).options(selectinload(Contract.versions))
        .order_by(rank, Contract.starts_on.desc(), Contract.id.desc()).limit(1))


def commitment(session, contract: Contract, now: datetime | None = None) -> Commitment:
    """The contract's money as finance reads it (see `Commitment`)."""
    now = now or utcnow()
    posted = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Hold.posted_fen), 0)).where(
        Hold.fund_id == contract.fund_id, Hold.reference == contract.number)) or 0
    hold = session.get(Hold, contract.hold_id) if contract.hold_id else None
    live = hold is not None and holds.is_live(hold, now)
    return Commitment(ceiling_fen=current_version(contract).ceiling_fen, committed_fen=hold.amount_fen if live else 0,
                      posted_fen=int(posted), hold_id=contract.hold_id,
                      hold_expires_at=as_utc(hold.expires_at) if hold is not None else None)


# --- drafting and amending ----------------------------------------------------------------------------

def _checked_terms(terms: Terms) -> dict:
    errors = {}
    for name in Terms.names():
        value = getattr(terms, name)
        least, most = TERM_BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = [_l("must be a whole number")]
        elif not least <= value <= most:
            errors[name] = [_l("must be from %(least)s to %(most)s", least=least, most=most)]
    return errors


def _checked_note(note: str) -> str:
    note = (note or "").strip()
    problem = text_problem(note)
    if problem is not None:
        raise ValidationError(fields={"note": [problem]})
    if len(note) > NOTE_MAX:
        raise ValidationError(fields={"note": [_l("is longer than %(max)s characters (%(length)s)", max=NOTE_MAX,
                                                  length=len(note))]})
    return note


def _county(session, county_code: str) -> Region:
    county = session.scalar(sa.select(Region).where(Region.code == (county_code or "").strip(),
                                                    Region.level == RegionLevel.county))
    if county is None:
        raise ValidationError(fields={"county": [_l("no county with this code")]})
    return county


def _next_number(session, year: int, county_code: str) -> str:
    prefix = f"HT-{year:04d}-{county_code}-"
    numbers = session.scalars(sa.select(Contract.number).where(Contract.number.like(prefix + "%")))
    last = max((int(number[len(prefix):]) for number in numbers if number[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:03d}"


def create_contract(session, who, vendor_id: int, county_code: str, starts_on: date, ends_on: date, terms: Terms,
                    *, note: str = "") -> Contract:
    """Draft a contract (version 1, effective from the start of its term). Nothing is committed yet."""
    actor = require(who, "care.contracts.write")
    vendor = get_vendor(session, actor, vendor_id)
    county = _county(session, county_code)
    errors = _checked_terms(terms)
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        errors["starts_on"] = [_l("must be a date")]
    elif ends_on < starts_on:
        errors["ends_on"] = [_l("ends before it starts")]
    elif (ends_on - starts_on).days > TERM_DAYS_MAX:
        errors["ends_on"] = [_l("a contract runs for at most three years")]
    if errors:
        raise ValidationError(_l("Some fields are invalid."), fields=errors)
    note = _checked_note(note)
    fund = county_care_fund(session, county.id)
    if fund is None:
        raise ValidationError(fields={"county": [_l("this county has no care budget fund yet")]})
    now = utcnow()
    lock_funds(session, [fund.code], now=now)  # numbers are taken one after the other per county
    contract = Contract(number=_next_number(session, starts_on.year, county.code), vendor_id=vendor.id,
                        county_id=county.id, fund_id=fund.id, starts_on=starts_on, ends_on=ends_on,
                        state=ContractState.draft, created_at=now, created_by_id=actor.user_id)
    contract.versions.append(ContractVersion(version_no=1, effective_on=starts_on, note=note, created_at=now,
                                             created_by_id=actor.user_id, **{n: getattr(terms, n) for n in Terms.names()}))
    session.add(contract)
    session.flush()
    record_event(session, actor.user_id, "care_contract.create", contract.number, contract_id=contract.id,
                 vendor_id=vendor.id, county=county.code)
    return contract


def amend_contract(session, who, contract_id: int, effective_on: date, terms: Terms, *, note: str = "",
                   now: datetime | None = None) -> ContractVersion:
    """A new version from `effective_on` (after the latest version's date, within the term); the
    versions before it stay as they are. A changed ceiling replaces the commitment (module docstring)."""
    actor = require(who, "care.contracts.write")
    contract = get_contract(session, actor, contract_id)
    if ContractState(contract.state) == ContractState.ended:
        raise ContractEnded(contract=contract.number)
    latest = current_version(contract)
    errors = _checked_terms(terms)
    if not isinstance(effective_on, date):
        errors["effective_on"] = [_l("must be a date")]
    elif effective_on <= max(version.effective_on for version in contract.versions):
        errors["effective_on"] = [_l("must be after %(day)s, the date of the latest version",
                                     day=max(version.effective_on for version in contract.versions).isoformat())]
    elif effective_on > contract.ends_on:
        errors["effective_on"] = [_l("must be within the contract's term (until %(day)s)",
                                     day=contract.ends_on.isoformat())]
    if errors:
        raise ValidationError(_l("Some fields are invalid."), fields=errors)
    note = _checked_note(note)
    version = ContractVersion(contract_id=contract.id, version_no=latest.version_no + 1, effective_on=effective_on,
                              note=note, created_at=utcnow(), created_by_id=actor.user_id,
                              **{n: getattr(terms, n) for n in Terms.names()})
    contract.versions.append(version)
    session.flush()
    if terms.ceiling_fen != latest.ceiling_fen and ContractState(contract.state) in COMMITTED_STATES:
        _replace_commitment(session, actor, contract, now or utcnow())
    record_event(session, actor.user_id, "care_contract.amend", contract.number, version_no=version.version_no,
                 effective_on=effective_on.isoformat(), ceiling_from=latest.ceiling_fen, ceiling_to=terms.ceiling_fen)
    return version


# --- the commitment -----------------------------------------------------------------------------------

def hold_expiry(contract: Contract, now: datetime) -> datetime:
    """The end of the term plus the settlement margin (the start of the next local day), capped at
    the longest a hold may run."""
    wanted = datetime.combine(contract.ends_on + timedelta(days=SETTLEMENT_MARGIN_DAYS + 1), time(0), LOCAL_TZ)
    return min(as_utc(wanted), as_utc(now) + timedelta(days=HOLD_MAX_DAYS))


def _place_commitment(session, actor: Actor, contract: Contract, now: datetime) -> Hold | None:
    figures = commitment(session, contract, now)
    amount_fen = figures.ceiling_fen - figures.posted_fen
    if amount_fen <= 0:
        raise ValidationError(fields={"ceiling_fen": [_l("the ceiling must exceed what the contract has paid")]})
    vendor = session.get(VendorProfile, contract.vendor_id)
    fund_code = session.scalar(sa.select(Fund.code).where(Fund.id == contract.fund_id))
    hold = holds.place_hold(session, fund_code, amount_fen, expires_at=hold_expiry(contract, now), now=now,
                            created_by_id=actor.user_id, purpose=HOLD_PURPOSE, payee_kind="organisation",
                            payee_name=vendor.organisation.name, payee_id_number=vendor.organisation.credit_code,
                            memo=f"照护服务合同 {contract.number}", reference=contract.number)
    contract.hold_id = hold.id
    session.flush()
    return hold


def _release_commitment(session, contract: Contract, now: datetime, reason: str) -> None:
    hold = session.get(Hold, contract.hold_id) if contract.hold_id else None
    if hold is None or HoldState(hold.state) != HoldState.pending:
        return
    if holds.is_live(hold, now):
        holds.void_hold(session, hold.id, reason=reason, now=now)
    else:
        fund_code = session.scalar(sa.select(Fund.code).where(Fund.id == hold.fund_id))
        holds.release_expired_holds(session, [fund_code], now=now)


def _replace_commitment(session, actor: Actor, contract: Contract, now: datetime) -> None:
    _release_commitment(session, contract, now, f"合同 {contract.number} 变更预算上限，重新预留")
    contract.hold_id = None
    _place_commitment(session, actor, contract, now)


# --- moves --------------------------------------------------------------------------------------------

def _overlapping(session, contract: Contract):
    return session.scalar(sa.select(Contract.number).where(
        Contract.id != contract.id, Contract.vendor_id == contract.vendor_id, Contract.county_id == contract.county_id,
        Contract.state.in_([s.value for s in COMMITTED_STATES]), Contract.starts_on <= contract.ends_on,
        Contract.ends_on >= contract.starts_on))


def activate_contract(session, who, contract_id: int, *, now: datetime | None = None) -> Contract:
    """draft -> active: the ceiling is committed as a hold on the county's care budget."""
    actor = require(who, "care.contracts.write")
    contract = get_contract(session, actor, contract_id)
    CONTRACT_MACHINE.next_state(contract, "activate")
    if VendorStatus(session.get(VendorProfile, contract.vendor_id).status) != VendorStatus.active:
        raise VendorSuspended()
    now = now or utcnow()
    # The county's care fund is locked before the overlap is looked for: two activations of the same
    # vendor and county (whose holds go on that fund) run one after the other, and the second's look,
    # a statement after the first has committed, finds the first contract active.
    session.flush()
    lock_funds(session, [session.scalar(sa.select(Fund.code).where(Fund.id == contract.fund_id))], now=now)
    other = _overlapping(session, contract)
    if other is not None:
        raise ContractOverlaps(other=other)
    hold = _place_commitment(session, actor, contract, now)
    CONTRACT_MACHINE.move(session, contract, "activate", user_id=actor.user_id, target=contract.number,
                          hold_id=hold.id, amount_fen=hold.amount_fen)
    session.flush()
    return contract


def _move(session, who, contract_id: int, action: str, reason: str) -> Contract:
    actor = require(who, "care.contracts.write")
    contract = get_contract(session, actor, contract_id)
    CONTRACT_MACHINE.move(session, contract, action, user_id=actor.user_id, reason=_checked_note(reason),
                          target=contract.number)
    session.flush()
    return contract


def suspend_contract(session, who, contract_id: int, *, reason: str = "") -> Contract:
    """active -> suspended; the commitment stays."""
    return _move(session, who, contract_id, "suspend", reason)


def resume_contract(session, who, contract_id: int, *, reason: str = "") -> Contract:
    """suspended -> active."""
    return _move(session, who, contract_id, "resume", reason)


def end_contract(session, who, contract_id: int, *, reason: str = "", now: datetime | None = None) -> Contract:
    """active or suspended -> ended: the rest of the commitment is released (the hold voided)."""
    actor = require(who, "care.contracts.write")
    contract = get_contract(session, actor, contract_id)
    CONTRACT_MACHINE.next_state(contract, "end")
    reason = _checked_note(reason)
    _release_commitment(session, contract, now or utcnow(), f"合同 {contract.number} 终止")
    CONTRACT_MACHINE.move(session, contract, "end", user_id=actor.user_id, reason=reason, target=contract.number)
    session.flush()
    return contract


def contract_actions(contract: Contract) -> list[str]:
    """The moves a contract offers from its state (the buttons of its page)."""
    return CONTRACT_MACHINE.actions_from(contract.state)

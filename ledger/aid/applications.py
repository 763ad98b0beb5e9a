"""Aid applications (救助申请): from a charity's filing to money on the person's card, on a clock.

The life of an application (`APPLICATION_MACHINE`, the only writer of `Application.state`; every
move is written to the audit log with who, when and why):

    draft --submit--> submitted --start_review--> under_review --approve--> approved --pay--> paid
    paid --follow_up--> closed
    under_review --return--> returned --resubmit--> resubmitted --start_review--> under_review
    under_review / escalated --reject--> rejected
    draft ... escalated --withdraw (by the filer, before a decision)--> withdrawn
    under_review --escalate (above the county limit, or by hand with a reason)--> escalated
    escalated --approve (a city reviewer)--> approved
    approved --cancel_approval (the hold voided)--> approval_cancelled
    approved --hold_expired (its hold's time passed)--> under_review, for a new approval

The rules with teeth:

* **The decision is a commitment.** Approving places a hold on the fund for the approved amount,
  expiring in `HOLD_DAYS`; paying posts the hold as a disbursement to the person's bank card
  (purpose medical aid, `source_kind` 'aid_application'); cancelling voids it. A fund never
  approves more than it has available: the journal's InsufficientFunds refuses, and the
  application stays under review (the transaction is rolled back). Two approvals at once on one
  fund are ordered by the fund's row lock; the second sees the first's hold.
* **Maker-checker.** Whoever filed or last changed an application cannot approve it. Above the
  policy version's county limit a county reviewer's approval escalates it to the city, whose
  reviewer's approval places the hold.
* **Cross-fund cap.** `year_to_date_aid` reads every disbursement this year to the person and
  their household from every fund out of the journal (net of reversals); an approval that would
  pass the per-person annual cap is refused with the figures; once per household per year refuses
  a second paid application of the household, naming the first.
* **Emergency clock.** Urgent: 24 h, especially urgent: 2 h from `reported_at` (default: the
  submission). It is met only when the payment is posted, never by an approval (`emergency_clock`).
* **先行救助.** An urgent case may be approved on minimal documents; the full paperwork is then
  due within 5 working days by the Chinese statutory calendar (`ledger.workdays`).

Who sees what (`application_scope`): charity users their own organisation's applications; county
people their county's; city-wide people (city reviewers, finance, auditors, admins) all. Anything
else is NotFound (404), like an application that does not exist. Services flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import documents
from ..audit import AuditEvent, record_event
from ..auth.access import Actor, require
from ..auth.models import Region
from ..db_base import dialect_insert
from ..errors import Conflict, Forbidden, NotFound, ValidationError, _l
from ..identity import mask_id_number
from ..journal import holds
from ..journal.holds import HoldPayment, is_live
from ..journal.models import (Account, AccountRole, Fund, FundLevel, FundProgramme, Hold, HoldState, JournalEntry,
                              Posting, Side)
from ..money import format_cny
from ..paging import Page
from ..statemachine import StateMachine
from ..text import text_problem
from ..timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from ..workdays import add_working_days
from . import policies
from .application_models import Application, ApplicationNumber, ApplicationState, FollowUpKind, Urgency
from .models import Person
from .services import get_person

S = ApplicationState
SOURCE_KIND = "aid_application"
PURPOSE = "medical_aid"
HOLD_DAYS = 30
PAPERWORK_WORKING_DAYS = 5
CLOCK_HOURS = {Urgency.urgent: 24, Urgency.especially_urgent: 2}
TEXT_MAX = 200
DESCRIPTION_MAX = 2000
REASON_MAX = 1000
PAY_MANY_MAX = 200
#: Open applications: the reviewer queue.
OPEN_STATES = (S.submitted, S.resubmitted, S.under_review, S.escalated)
#: Before a decision: the filer may still withdraw.
UNDECIDED_STATES = (S.draft, S.submitted, S.resubmitted, S.under_review, S.returned, S.escalated)

APPLICATION_MACHINE = StateMachine(
    name="aid_application", states=ApplicationState, label="number",
    transitions={
        (S.draft, "edit"): S.draft,
        (S.returned, "edit"): S.returned,
        (S.draft, "submit"): S.submitted,
        (S.submitted, "start_review"): S.under_review,
        (S.resubmitted, "start_review"): S.under_review,
        (S.under_review, "return"): S.returned,
        (S.escalated, "return"): S.returned,
        (S.returned, "resubmit"): S.resubmitted,
        (S.under_review, "approve"): S.approved,
        (S.escalated, "approve"): S.approved,
        (S.under_review, "escalate"): S.escalated,
        (S.under_review, "reject"): S.rejected,
        (S.escalated, "reject"): S.rejected,
        **{(state, "withdraw"): S.withdrawn for state in UNDECIDED_STATES},
        (S.approved, "pay"): S.paid,
        (S.approved, "cancel_approval"): S.approval_cancelled,
        (S.approved, "hold_expired"): S.under_review,
        (S.paid, "follow_up"): S.closed,
    },
    words={"aid_application": _l("application"), "draft": _l("a draft"), "submitted": _l("submitted"),
           "under_review": _l("under review"), "returned": _l("returned for more information"),
           "resubmitted": _l("resubmitted"), "escalated": _l("escalated to the city"), "approved": _l("approved"),
           "paid": _l("paid"), "closed": _l("closed"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn"),
           "approval_cancelled": _l("cancelled after approval"), "edit": _l("changed"),
           "submit": _l("submitted"), "start_review": _l("taken under review"),
           "return": _l("returned for more information"), "resubmit": _l("resubmitted"),
           "approve": _l("approved"), "escalate": _l("escalated"), "reject": _l("rejected"),
           "withdraw": _l("withdrawn"), "pay": _l("paid"), "cancel_approval": _l("cancelled"),
           "hold_expired": _l("sent back for a new approval"), "follow_up": _l("followed up")})


# --- refusals ---------------------------------------------------------------------------------------

class SameHands(Conflict):
    """Whoever filed or last changed an application cannot approve it: another reviewer must decide.

    Rule: maker-checker, at the county and at the city."""

    code = "maker_checker"


class CityDecisionRequired(Forbidden):
    """This application is escalated to the city: a city reviewer decides it.

    Rule: above the county limit, or escalated by hand, the city approves."""

    code = "city_decision_required"


class AnnualCapExceeded(Conflict):
    """This approval would pass the person's annual cap of aid from all funds.

    Rule: a person receives at most the policy's annual cap in a year, from the village, county and
    city funds together."""

    code = "annual_cap_exceeded"


class OncePerHousehold(Conflict):
    """The person's household has been paid tiered aid this year already.

    Rule: the policy pays a household once a year."""

    code = "once_per_household"


class NoPolicyInForce(ValidationError):
    """The fund has no tier policy in force: it gives no tiered aid.

    Rule: tiered aid is decided by the fund's policy."""

    code = "no_policy_in_force"


# --- inputs, figures, clock -----------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationInput:
    """What filing an application takes; amounts in fen. `out_of_pocket_fen` None: total - reimbursed."""

    person_id: int
    fund_code: str
    diagnosis: str
    hospital: str
    total_cost_fen: int
    reimbursed_fen: int
    amount_requested_fen: int
    out_of_pocket_fen: int | None = None
    urgency: Urgency = Urgency.normal
    reported_at: datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class FundAid:
    """What one fund paid this year to the person and to the whole household (net of reversals)."""

    fund_code: str
    fund_name: str
    fund_level: str
    person_fen: int
    household_fen: int


@dataclass(frozen=True)
class YearToDate:
    person_id: int
    year: int
    funds: list[FundAid]
    person_fen: int
    household_fen: int
    #: approved for the person and not yet paid (their holds bind money)
    committed_fen: int


@dataclass(frozen=True)
class Clock:
    """An application's emergency clock at a moment: `state` none (normal urgency), not_started,
    running, met, breached or stopped (closed unpaid); `text` is what a person reads."""

    state: str
    deadline_at: datetime | None
    text: str
    seconds: int | None  # left (positive) or over (negative) while running / breached; taken when met


def duration_text(seconds: int):
    """3 h 12 min, 3 h, 12 min (whole minutes, rounded down)."""
    minutes = max(0, int(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _l("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    if hours:
        return _l("%(hours)s h", hours=hours)
    return _l("%(minutes)s min", minutes=minutes)


def clock_start(application: Application) -> datetime | None:
    return as_utc(application.reported_at or application.submitted_at)


def clock_deadline(urgency, start: datetime | None) -> datetime | None:
    hours = CLOCK_HOURS.get(Urgency(urgency))
    if hours is None or start is None:
        return None
    return as_utc(start) + timedelta(hours=hours)


def emergency_clock(application: Application, now: datetime | None = None) -> Clock:
    """The clock of an application at `now`: met only by the payment posted (paid_at), never by an
    approval. Pure: reads the application's fields only."""
    now = as_utc(now or utcnow())
    if Urgency(application.urgency) == Urgency.normal:
        return Clock("none", None, "", None)
    start = clock_start(application)
    if start is None:
        return Clock("not_started", None, "", None)
    deadline = clock_deadline(application.urgency, start)
    paid_at = as_utc(application.paid_at)
    if paid_at is not None:
        if paid_at <= deadline:
            taken = int((paid_at - start).total_seconds())
            return Clock("met", deadline, _l("met in %(duration)s", duration=duration_text(taken)), taken)
        over = int((paid_at - deadline).total_seconds())
        return Clock("breached", deadline, _l("overdue by %(duration)s", duration=duration_text(over)), -over)
    if S(application.state) in (S.rejected, S.withdrawn, S.approval_cancelled):
        return Clock("stopped", deadline, "", None)
    left = int((deadline - now).total_seconds())
    if left >= 0:
        return Clock("running", deadline, _l("%(duration)s left", duration=duration_text(left)), left)
    return Clock("breached", deadline, _l("overdue by %(duration)s", duration=duration_text(-left)), left)


# --- scope and reads -------------------------------------------------------------------------------

def application_scope(actor: Actor):
    """A SQL condition on Application for what the actor may see (see the module docstring)."""
    if actor.is_partner:
        return Application.filing_organisation_id == actor.organisation_id
    if actor.city_wide:
        return sa.true()
    return Application.county_id == actor.county_id


def _query(actor: Actor):
    return (sa.select(Application).where(application_scope(actor))
            .options(selectinload(Application.person).selectinload(Person.categories),
                     selectinload(Application.fund), selectinload(Application.county),
                     selectinload(Application.filing_organisation)))


def _load(session, actor: Actor, application_id: int, *, for_update: bool = False) -> Application:
    query = _query(actor).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update(of=Application.__table__).execution_options(populate_existing=True)
    application = session.scalar(query)
    if application is None:
        raise NotFound(_l("no application %(application)s", application=application_id))
    return application


def get_application(session, who, application_id: int) -> Application:
    """One application, if the actor may see it; NotFound otherwise. Any role but vendors."""
    actor = require(who, "aid.applications.read")
    return _load(session, actor, application_id)


def list_applications(session, who, *, state: str | None = None, person_id: int | None = None, page: int = 1,
                      per_page: int = 50) -> Page:
    """The applications in sight, newest first; `state` and `person_id` narrow. Any role but vendors."""
    actor = require(who, "aid.applications.read")
    conditions = [application_scope(actor)]
    if state:
        try:
            conditions.append(Application.state == S(state))
        except ValueError:
            raise ValidationError(fields={"state": [_l("no such state")]}) from None
    if person_id is not None:
        conditions.append(Application.person_id == person_id)
    where = sa.and_(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(Application).where(where))
    items = list(session.scalars(_query(actor).where(where).order_by(Application.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def reviewer_queue(session, who, *, page: int = 1, per_page: int = 50) -> Page:
    """The open applications in the reviewer's sight, most urgent first: urgent cases by their
    clock's deadline (breached ones first, then the least time left), then normal ones by
    submission. An index range on (state, county, rank, due). Reviewers only."""
    actor = require(who, "aid.applications.review")
    where = sa.and_(application_scope(actor), Application.state.in_(OPEN_STATES))
    total = session.scalar(sa.select(sa.func.count()).select_from(Application).where(where))
    items = list(session.scalars(_query(actor).where(where)
                                 .order_by(Application.queue_rank, Application.queue_at, Application.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def application_history(session, who, application_id: int) -> list[AuditEvent]:
    """Every move of the application, oldest first (who, when, from, to, why). Any role but vendors."""
    application = get_application(session, who, application_id)
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.target == _target(application),
                                                            AuditEvent.action.like("aid_application.%"))
                                .order_by(AuditEvent.id)))


def overdue_paperwork(session, who, *, today: date | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Applications approved on minimal documents (先行救助) whose full paperwork is past its due
    date and not yet marked complete, the longest overdue first. Any role but vendors."""
    actor = require(who, "aid.applications.read")
    today = today or to_local(utcnow()).date()
    where = sa.and_(application_scope(actor), Application.minimal_documents.is_(True),
                    Application.paperwork_due_on < today, Application.paperwork_completed_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(Application).where(where))
    items = list(session.scalars(_query(actor).where(where)
                                 .order_by(Application.paperwork_due_on, Application.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def year_to_date_aid(session, who, person_id: int, year: int | None = None) -> YearToDate:
    """Everything the person and their household received in `year` (default this year) from every
    fund, read from the journal's disbursements (entries whose payee is a member's resident ID, or
    that serve a member's application; net of reversals), per fund; and what is approved for the
    person and not yet paid. Reviewers, finance, admins, auditors, and charities for their county."""
    actor = require(who, "aid.applications.read")
    person = get_person(session, actor, person_id)
    year = year or to_local(utcnow()).year
    return _year_to_date(session, person, year)


def _household(session, person: Person) -> list[Person]:
    if person.household_id is None:
        return [person]
    return list(session.scalars(sa.select(Person).where(Person.household_id == person.household_id)))


def _year_to_date(session, person: Person, year: int) -> YearToDate:
    members = _household(session, person)
    resident_ids = {member.resident_id: member.id for member in members}
    applications = dict(session.execute(sa.select(Application.id, Application.person_id)
                                        .where(Application.person_id.in_(list(resident_ids.values())))).all())
    served = sa.and_(JournalEntry.source_kind == SOURCE_KIND, JournalEntry.source_id.in_(list(applications)))
    paid_to = JournalEntry.counterparty_id_number.in_(list(resident_ids))
    signed = sa.case((Posting.side == Side.debit, Posting.amount_fen), else_=-Posting.amount_fen)
    rows = session.execute(
        sa.select(Fund.code, Fund.name, Fund.level, JournalEntry.counterparty_id_number, JournalEntry.source_kind,
                  JournalEntry.source_id, sa.func.sum(signed))
        .select_from(JournalEntry)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .join(Fund, Fund.id == Account.fund_id)
        .where(Account.role == AccountRole.aid_expense,
               JournalEntry.value_on >= date(year, 1, 1), JournalEntry.value_on <= date(year, 12, 31),
               sa.or_(paid_to, served) if applications else paid_to)
        .group_by(Fund.code, Fund.name, Fund.level, JournalEntry.counterparty_id_number, JournalEntry.source_kind,
                  JournalEntry.source_id)).all()
    per_fund: dict[str, list] = {}
    for code, name, level, id_number, source_kind, source_id, amount in rows:
        member_id = resident_ids.get(id_number)
        if member_id is None and source_kind == SOURCE_KIND:
            member_id = applications.get(source_id)
        figures = per_fund.setdefault(code, [name, level, 0, 0])
        figures[3] += int(amount)
        if member_id == person.id:
            figures[2] += int(amount)
    funds = [FundAid(code, name, getattr(level, "value", level), person_fen, household_fen)
             for code, (name, level, person_fen, household_fen) in sorted(per_fund.items())]
    committed = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Application.amount_approved_fen), 0))
                               .where(Application.person_id == person.id, Application.state == S.approved)) or 0
    return YearToDate(person.id, year, funds, sum(item.person_fen for item in funds),
                      sum(item.household_fen for item in funds), int(committed))


# --- filing -----------------------------------------------------------------------------------------

def _text(value, name: str, problems: dict, max_length: int = TEXT_MAX, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        problems.setdefault(name, []).append(_l("must not be blank"))
    elif text_problem(value) is not None:
        problems.setdefault(name, []).append(text_problem(value))
    elif len(value) > max_length:
        problems.setdefault(name, []).append(
            _l("is longer than %(max)s characters (%(length)s)", max=max_length, length=len(value)))
    return value


def _fen(value, name: str, problems: dict, *, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        problems.setdefault(name, []).append(_l("must be a positive amount") if not allow_zero
                                             else _l("must not be negative"))
        return 0
    return value


def _checked_input(data: ApplicationInput, now: datetime) -> dict:
    problems: dict[str, list] = {}
    values = {
        "diagnosis": _text(data.diagnosis, "diagnosis", problems),
        "hospital": _text(data.hospital, "hospital", problems),
        "description": _text(data.description, "description", problems, DESCRIPTION_MAX, required=False),
        "total_cost_fen": _fen(data.total_cost_fen, "total_cost", problems),
        "reimbursed_fen": _fen(data.reimbursed_fen, "reimbursed", problems),
        "amount_requested_fen": _fen(data.amount_requested_fen, "amount_requested", problems, allow_zero=False),
    }
    out_of_pocket = data.out_of_pocket_fen
    if out_of_pocket is None:
        out_of_pocket = values["total_cost_fen"] - values["reimbursed_fen"]
    else:
        out_of_pocket = _fen(out_of_pocket, "out_of_pocket", problems)
    if "total_cost" not in problems and "reimbursed" not in problems:
        if values["reimbursed_fen"] > values["total_cost_fen"]:
            problems.setdefault("reimbursed", []).append(_l("must not exceed the total cost"))
        elif values["reimbursed_fen"] + out_of_pocket != values["total_cost_fen"]:
            problems.setdefault("out_of_pocket", []).append(
                _l("must be the total cost less what was reimbursed (%(amount)s)",
                   amount=format_cny(values["total_cost_fen"] - values["reimbursed_fen"], symbol=False)))
    values["out_of_pocket_fen"] = out_of_pocket
    try:
        values["urgency"] = Urgency(data.urgency)
    except ValueError:
        problems.setdefault("urgency", []).append(_l("must be normal, urgent or especially_urgent"))
    reported_at = data.reported_at
    if reported_at is not None:
        if not isinstance(reported_at, datetime) or reported_at.tzinfo is None:
            problems.setdefault("reported_at", []).append(_l("must be a date and time with its time zone"))
            reported_at = None
        elif as_utc(reported_at) > now + timedelta(minutes=5):
            problems.setdefault("reported_at", []).append(_l("must not be in the future"))
    values["reported_at"] = as_utc(reported_at) if reported_at is not None else None
    if problems:
        raise ValidationError(fields=problems)
    return values


def _fund_for(session, fund_code: str, person: Person) -> Fund:
    """The fund named, if it may pay tiered aid to the person: the city fund, the person's county
    project or a village fund of that county, with a tier policy (relief funds only: a care-service
    budget pays no tiered aid)."""
    fund = session.scalar(sa.select(Fund).where(Fund.code == fund_code, Fund.programme == FundProgramme.relief))
    fits = False
    if fund is not None:
        level = FundLevel(fund.level)
        if level == FundLevel.city:
            fits = True
        elif level == FundLevel.county:
            fits = fund.region_id == person.county_id
        else:
            fits = session.scalar(sa.select(Region.parent_id).where(Region.id == fund.region_id)) == person.county_id
    if not fits:
        raise ValidationError(fields={"fund": [_l("no such fund for a person of this county")]})
    if session.scalar(sa.select(sa.literal(1)).where(policies.TierPolicy.fund_id == fund.id)) is None:
        raise NoPolicyInForce(fields={"fund": [_l("gives no tiered aid (it has no tier policy)")]})
    return fund


def _next_number(session, county_id: int, county_code: str, year: int) -> str:
    """SQ-<year>-<county>-<6 digits>: the county's next number in the year, claimed with an upsert
    (the row's lock orders two filings at once; each gets its own number)."""
    table = ApplicationNumber.__table__
    statement = (dialect_insert(session, table).values(county_id=county_id, year=year, last_seq=1)
                 .on_conflict_do_update(index_elements=["county_id", "year"],
                                        set_={"last_seq": table.c.last_seq + 1})
                 .returning(table.c.last_seq))
    sequence = session.execute(statement).scalar_one()
    return f"SQ-{year}-{county_code}-{sequence:06d}"


def _target(application: Application) -> str:
    return f"aid_application:{application.id}"


def _move(session, actor: Actor, application: Application, action: str, *, reason: str | None = None,
          now: datetime | None = None, **detail) -> None:
    APPLICATION_MACHINE.move(session, application, action, user_id=actor.user_id, reason=reason or None,
                             target=_target(application), number=application.number, **detail)
    application.updated_at = now or utcnow()


def file_application(session, who, data: ApplicationInput, *, submit: bool = False,
                     now: datetime | None = None) -> Application:
    """File an application (a draft; submitted at once with `submit`) for a person in sight, from a
    fund that may aid them. Charity users and county staff (reviewers)."""
    actor = require(who, "aid.applications.file")
    now = as_utc(now or utcnow())
    person = get_person(session, actor, data.person_id)
    values = _checked_input(data, now)
    fund = _fund_for(session, data.fund_code, person)
    county = session.get(Region, person.county_id)
    year = to_local(now).year
    application = Application(
        number=_next_number(session, county.id, county.code, year), state=S.draft, person_id=person.id,
        county_id=county.id, fund_id=fund.id, filing_organisation_id=actor.organisation_id,
        filed_by_user_id=actor.user_id, last_changed_by_user_id=actor.user_id, created_at=now, updated_at=now,
        queue_rank=1, minimal_documents=False, decision_reason="", **values)
    session.add(application)
    session.flush()
    record_event(session, actor.user_id, "aid_application.file", _target(application), number=application.number,
                 to=S.draft.value)
    if submit:
        _submit(session, actor, application, now)
    session.flush()
    return application


def update_application(session, who, application_id: int, data: ApplicationInput,
                       now: datetime | None = None) -> Application:
    """Change a draft or a returned application (its person stays; the fund, facts and amount may
    change). The changer becomes its last changer and may not approve it. Filers only."""
    actor = require(who, "aid.applications.file")
    now = as_utc(now or utcnow())
    application = _load(session, actor, application_id, for_update=True)
    APPLICATION_MACHINE.next_state(application, "edit")
    if data.person_id != application.person_id:
        raise ValidationError(fields={"person": [_l("an application's person cannot change; file a new one")]})
    values = _checked_input(data, now)
    fund = _fund_for(session, data.fund_code, application.person)
    for name, value in values.items():
        setattr(application, name, value)
    application.fund_id = fund.id
    application.last_changed_by_user_id = actor.user_id
    _move(session, actor, application, "edit", now=now)
    session.flush()
    return application


def _submit(session, actor: Actor, application: Application, now: datetime) -> None:
    application.submitted_at = now
    start = application.reported_at or now
    application.reported_at = start
    application.clock_deadline_at = clock_deadline(application.urgency, start)
    urgent = application.clock_deadline_at is not None
    application.queue_rank = 0 if urgent else 1
    application.queue_at = application.clock_deadline_at if urgent else now
    _move(session, actor, application, "submit", now=now)


def submit_application(session, who, application_id: int, now: datetime | None = None) -> Application:
    """Submit a draft: its clock starts at `reported_at` (default now). Filers only."""
    actor = require(who, "aid.applications.file")
    application = _load(session, actor, application_id, for_update=True)
    _submit(session, actor, application, as_utc(now or utcnow()))
    session.flush()
    return application


def resubmit_application(session, who, application_id: int, *, reason: str = "",
                         now: datetime | None = None) -> Application:
    """Send a returned application back to the reviewers with what was asked for. Filers only; the
    resubmitter becomes its last changer."""
    actor = require(who, "aid.applications.file")
    application = _load(session, actor, application_id, for_update=True)
    application.last_changed_by_user_id = actor.user_id
    _move(session, actor, application, "resubmit", reason=_reason(reason, required=False), now=now)
    session.flush()
    return application


def withdraw_application(session, who, application_id: int, *, reason: str = "",
                         now: datetime | None = None) -> Application:
    """Withdraw an application before a decision. The filing organisation's users (and county staff)."""
    actor = require(who, "aid.applications.file")
    application = _load(session, actor, application_id, for_update=True)
    _move(session, actor, application, "withdraw", reason=_reason(reason, required=False), now=now)
    session.flush()
    return application


# --- review -----------------------------------------------------------------------------------------

def _reason(reason: str, *, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError(fields={"reason": [_l("say why")]})
    if text_problem(reason) is not None:
        raise ValidationError(fields={"reason": [text_problem(reason)]})
    if len(reason) > REASON_MAX:
        raise ValidationError(fields={"reason": [_l("is longer than %(max)s characters (%(length)s)",
                                                    max=REASON_MAX, length=len(reason))]})
    return reason


def _reviewing(session, who, application_id: int) -> tuple[Actor, Application]:
    actor = require(who, "aid.applications.review")
    application = _load(session, actor, application_id, for_update=True)
    if S(application.state) == S.escalated and not actor.city_wide:
        raise CityDecisionRequired()
    return actor, application


def start_review(session, who, application_id: int, now: datetime | None = None) -> Application:
    """Take a submitted or resubmitted application under review. Reviewers in scope."""
    actor, application = _reviewing(session, who, application_id)
    _move(session, actor, application, "start_review", now=now)
    session.flush()
    return application


def return_application(session, who, application_id: int, *, reason: str, now: datetime | None = None) -> Application:
    """Return an application to its filer for more information (the reason says what). Reviewers in
    scope; an escalated one, city reviewers."""
    actor, application = _reviewing(session, who, application_id)
    _move(session, actor, application, "return", reason=_reason(reason), now=now)
    # A county approval awaiting the city lapses: the resubmitted case is decided afresh.
    application.county_approved_by_user_id = application.county_approved_at = None
    application.amount_approved_fen = None
    session.flush()
    return application


def reject_application(session, who, application_id: int, *, reason: str, now: datetime | None = None) -> Application:
    """Reject an application, with the reason. Reviewers in scope; an escalated one, city reviewers."""
    actor, application = _reviewing(session, who, application_id)
    reason = _reason(reason)
    _move(session, actor, application, "reject", reason=reason, now=now)
    application.decision_reason = reason
    session.flush()
    return application


def escalate_application(session, who, application_id: int, *, reason: str,
                         now: datetime | None = None) -> Application:
    """Hand an application under review to the city, with the reason. County reviewers in scope."""
    actor, application = _reviewing(session, who, application_id)
    _move(session, actor, application, "escalate", reason=_reason(reason), now=now)
    session.flush()
    return application


def _decision_version(session, application: Application, now: datetime):
    if application.policy_version_id is not None and S(application.state) == S.escalated:
        return application.policy_version
    version = policies.version_on(session, application.fund_id, to_local(now).date())
    if version is None:
        raise NoPolicyInForce(fields={"fund": [_l("has no tier policy in force today")]})
    return version


def _check_cap(session, application: Application, version, amount_fen: int, now: datetime) -> None:
    year = to_local(now).year
    figures = _year_to_date(session, application.person, year)
    committed = figures.committed_fen
    if figures.person_fen + committed + amount_fen > version.annual_cap_fen:
        raise AnnualCapExceeded(
            _l("%(person)s received %(received)s this year from all funds and has %(committed)s approved and "
               "not yet paid; %(amount)s more would pass the annual cap of %(cap)s",
               person=application.person.name, received=format_cny(figures.person_fen, symbol=False),
               committed=format_cny(committed, symbol=False), amount=format_cny(amount_fen, symbol=False),
               cap=format_cny(version.annual_cap_fen, symbol=False)),
            fields={"amount": [_l("passes the annual cap of %(cap)s",
                                  cap=format_cny(version.annual_cap_fen, symbol=False))]},
            received_fen=figures.person_fen, committed_fen=committed, amount_fen=amount_fen,
            cap_fen=version.annual_cap_fen)
    if version.once_per_household_per_year:
        members = [member.id for member in _household(session, application.person)]
        year_start = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
        first = session.scalar(
            sa.select(Application.number).where(
                Application.person_id.in_(members), Application.id != application.id,
                sa.or_(Application.state == S.approved,
                       sa.and_(Application.state.in_((S.paid, S.closed)), Application.paid_at >= year_start)))
            .order_by(Application.id).limit(1))
        if first is not None:
            raise OncePerHousehold(
                _l("the household was aided this year already by %(number)s", number=first),
                fields={"person": [_l("aided this year already by %(number)s", number=first)]}, first_number=first)


def approve_application(session, who, application_id: int, *, amount_fen: int | None = None,
                        minimal_documents: bool = False, reason: str = "",
                        now: datetime | None = None) -> Application:
    """Decide for an application: reviewers in scope who neither filed nor last changed it.

    The amount (default: the policy's suggestion, or the county's amount when escalated) is
    checked against the cap and once-per-household rules; above the policy version's county limit
    a county reviewer's approval escalates the application to the city. Otherwise a hold is placed
    on the fund for the amount, expiring in HOLD_DAYS (InsufficientFunds when the fund cannot
    afford it: nothing changes). The decision keeps the policy version it used, now immutable.
    `minimal_documents` (urgent cases only): 先行救助, full paperwork due in 5 working days."""
    actor, application = _reviewing(session, who, application_id)
    now = as_utc(now or utcnow())
    state = S(application.state)
    APPLICATION_MACHINE.next_state(application, "approve")
    deciders = {application.filed_by_user_id, application.last_changed_by_user_id}
    if state == S.escalated:
        deciders.add(application.county_approved_by_user_id)
    if actor.user_id is not None and actor.user_id in deciders:
        raise SameHands()
    reason = _reason(reason, required=False)
    version = _decision_version(session, application, now)
    if state == S.under_review or application.policy_version_id is None:
        categories = policies.categories_on(application.person, to_local(now).date())
        suggestion = policies.suggest(version, application.out_of_pocket_fen, categories)
        application.suggested_fen = suggestion.amount_fen
        application.suggestion_text = str.__str__(suggestion.text)[:300]
        application.suggestion_factor_permille = suggestion.factor_permille
        application.policy_version_id = version.id
    if amount_fen is None:
        amount_fen = application.amount_approved_fen or application.suggested_fen
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(fields={"amount": [_l("must be a positive amount")]})
    if minimal_documents and Urgency(application.urgency) == Urgency.normal:
        raise ValidationError(fields={"minimal_documents": [_l("only an urgent case is aided on minimal documents")]})
    _check_cap(session, application, version, amount_fen, now)
    application.amount_approved_fen = amount_fen
    if reason:
        application.decision_reason = reason
    if minimal_documents or (state == S.escalated and application.minimal_documents):
        application.minimal_documents = True
        application.paperwork_due_on = add_working_days(to_local(now).date(), PAPERWORK_WORKING_DAYS)
    if state == S.under_review and not actor.city_wide:
        application.county_approved_by_user_id = actor.user_id
        application.county_approved_at = now
        if amount_fen > version.county_approval_max_fen:
            _move(session, actor, application, "escalate", reason=reason or None, now=now,
                  amount=format_cny(amount_fen, symbol=False), automatic=True)
            policies.mark_used(session, version, now)
            session.flush()
            return application
    else:
        application.city_approved_by_user_id = actor.user_id
        application.city_approved_at = now
    person = application.person
    hold = holds.place_hold(
        session, application.fund.code, amount_fen, expires_at=now + timedelta(days=HOLD_DAYS),
        created_by_id=actor.user_id, now=now, purpose=PURPOSE, payee_kind="person", payee_name=person.name,
        payee_id_number=person.resident_id, memo=f"救助申请 {application.number}", reference=application.number)
    application.hold_id = hold.id
    policies.mark_used(session, version, now)
    _move(session, actor, application, "approve", reason=reason or None, now=now,
          amount=format_cny(amount_fen, symbol=False), hold_id=hold.id)
    session.flush()
    return application


def cancel_approval(session, who, application_id: int, *, reason: str, now: datetime | None = None) -> Application:
    """Cancel an approval before payment: its hold is voided and the money available again.
    Reviewers in scope."""
    actor = require(who, "aid.applications.review")
    application = _load(session, actor, application_id, for_update=True)
    APPLICATION_MACHINE.next_state(application, "cancel_approval")
    reason = _reason(reason)
    holds.void_hold(session, application.hold_id, reason=reason, now=now)
    _move(session, actor, application, "cancel_approval", reason=reason, now=now)
    session.flush()
    return application


def expire_approvals(session, who=None, *, now: datetime | None = None) -> list[Application]:
    """Send every approved application whose hold has expired back under review for a new approval
    (the holds are released first). A scheduled job (who None) or a reviewer (their scope)."""
    actor = require(who, "aid.applications.review")
    now = as_utc(now or utcnow())
    holds.release_expired_holds(session, now=now)
    expired = list(session.scalars(
        _query(actor).join(Hold, Hold.id == Application.hold_id)
        .where(Application.state == S.approved, Hold.state == HoldState.expired)
        .with_for_update(of=Application.__table__).execution_options(populate_existing=True)))
    for application in expired:
        _move(session, actor, application, "hold_expired", now=now, hold_id=application.hold_id)
        application.hold_id = None
        application.county_approved_by_user_id = application.county_approved_at = None
        application.city_approved_by_user_id = application.city_approved_at = None
    session.flush()
    return expired


# --- payment, paperwork, follow-up --------------------------------------------------------------

def pay_applications(session, who, application_ids: list[int], *, idempotency_key: str | None = None,
                     now: datetime | None = None) -> list[Application]:
    """Pay approved applications in one run, all or nothing: each hold is posted as a disbursement
    to the person's bank card (purpose medical aid, source aid_application); the clock is met at
    this moment. A hold that expired refuses the whole run (HoldExpired). Finance only."""
    actor = require(who, "aid.applications.pay")
    now = as_utc(now or utcnow())
    ids = list(dict.fromkeys(application_ids))
    if not ids or len(ids) > PAY_MANY_MAX:
        raise ValidationError(fields={"applications": [_l("name 1 to %(max)s applications", max=PAY_MANY_MAX)]})
    applications = []
    for application_id in sorted(ids):
        application = _load(session, actor, application_id, for_update=True)
        APPLICATION_MACHINE.next_state(application, "pay")
        if not application.person.bank_account_number:
            raise ValidationError(_l("%(person)s has no bank card on record", person=application.person.name),
                                  fields={"person": [_l("no bank card on record")]},
                                  number=application.number)
        applications.append(application)
    value_on = to_local(now).date()
    payments = []
    for application in applications:
        person = application.person
        payments.append(HoldPayment(
            application.hold_id, None, value_on,
            memo=(f"救助申请 {application.number} 医疗救助，拨付至 {person.bank_name} "
                  f"{mask_id_number(person.bank_account_number)}"),
            idempotency_key=f"{idempotency_key}:{application.id}" if idempotency_key else None,
            source_kind=SOURCE_KIND, source_id=application.id))
    posted = holds.post_holds(session, payments, created_by_id=actor.user_id, now=now)
    for application, entry in zip(applications, posted):
        application.payment_entry_id = entry.id
        application.paid_at = now
        _move(session, actor, application, "pay", now=now, voucher=entry.voucher_no)
    session.flush()
    return applications


def pay_application(session, who, application_id: int, *, idempotency_key: str | None = None,
                    now: datetime | None = None) -> Application:
    """Pay one approved application (a run of one). Finance only."""
    return pay_applications(session, who, [application_id], idempotency_key=idempotency_key, now=now)[0]


def complete_paperwork(session, who, application_id: int, now: datetime | None = None) -> Application:
    """Mark the full paperwork of an application aided on minimal documents as received: it leaves
    the overdue-paperwork list. Reviewers in scope."""
    actor = require(who, "aid.applications.review")
    application = _load(session, actor, application_id, for_update=True)
    if not application.minimal_documents or application.paperwork_completed_at is not None:
        raise Conflict(_l("application %(number)s has no paperwork outstanding", number=application.number))
    application.paperwork_completed_at = now or utcnow()
    record_event(session, actor.user_id, "aid_application.paperwork_complete", _target(application),
                 number=application.number)
    session.flush()
    return application


def record_follow_up(session, who, application_id: int, *, kind: str, outcome: str,
                     now: datetime | None = None) -> Application:
    """Record the follow-up after payment (a visit or a call, and its outcome): it closes the case.
    The filing charity (or county staff in scope)."""
    actor = require(who, "aid.applications.follow_up")
    now = as_utc(now or utcnow())
    application = _load(session, actor, application_id, for_update=True)
    APPLICATION_MACHINE.next_state(application, "follow_up")
    try:
        kind = FollowUpKind(kind)
    except ValueError:
        raise ValidationError(fields={"kind": [_l("must be visit or call")]}) from None
    problems: dict[str, list] = {}
    outcome = _text(outcome, "outcome", problems, DESCRIPTION_MAX)
    if problems:
        raise ValidationError(fields=problems)
    application.follow_up_kind = kind
    application.follow_up_outcome = outcome
    application.followed_up_at = now
    application.followed_up_by_user_id = actor.user_id
    _move(session, actor, application, "follow_up", now=now, kind=kind.value)
    session.flush()
    return application


def suggestion_rule(application: Application):
    """The rule of the decision's suggestion in the reader's language (None before a decision): rebuilt
    from the policy version and the factor the decision kept, so a later policy or a person's new
    category never changes it."""
    if application.policy_version is None or application.suggestion_factor_permille is None:
        return None
    return policies.suggest_at_factor(application.policy_version, application.out_of_pocket_fen,
                                      application.suggestion_factor_permille).text


def hold_is_live(application: Application, now: datetime | None = None) -> bool:
    """Whether the application's hold still binds its money (approved and not expired)."""
    return application.hold is not None and is_live(application.hold, now)


# --- documents of an application (the hospital bill, the diagnosis ...) ---------------------------

#: States in which documents may still be attached: before a decision, and after 先行救助 until closed.
DOCUMENT_STATES = UNDECIDED_STATES + (S.approved, S.paid)


class ApplicationDocumentsClosed(Conflict):
    """Documents can no longer be attached to this application.

    Rule: documents are attached until the case is decided against, withdrawn or closed."""

    code = "application_documents_closed"


def _documents_read(session, actor: Actor, application_id: int) -> None:
    get_application(session, actor, application_id)


def _documents_write(session, actor: Actor, application_id: int) -> None:
    if not (actor.may("aid.applications.file") or actor.may("aid.applications.review")):
        raise Forbidden()
    application = _load(session, actor, application_id)
    if S(application.state) not in DOCUMENT_STATES:
        raise ApplicationDocumentsClosed()


documents.register_owner(SOURCE_KIND, read=_documents_read, write=_documents_write)

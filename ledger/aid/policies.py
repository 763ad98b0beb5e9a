"""Tier policies (救助档次): versioned, effective-dated rules that suggest an amount of aid.

A fund that gives tiered aid (a county charity emergency-relief project, a village fund, the city
fund) has one policy; its versions carry the bands on the out-of-pocket medical cost, a factor
per registry category (integer per mille), the per-person annual cap, once per household per
year, and the most a county reviewer approves alone. The version in force on a date is the one
with the latest `effective_on` on or before it (the higher version number on the same date).

`suggest(version, out_of_pocket_fen, categories)` is a pure function: the highest band whose
threshold is at most the out-of-pocket cost, times the largest factor of the person's categories
(1.0 when none is listed), rounded half up to the fen, and the rule that produced it as a message
in the reader's language, e.g. `自付 35,200.00 -> 第二档（≥ 20,000）10,000.00 × 1.0`.

Invariant: a version a decision used (`used_at`) is never edited; a change is a new version, so a
later policy never changes a past decision (the application keeps the version it used).

Who: every role of the programme but vendors reads policies (a charity sees the amount as it
types); only admins write them. Services flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..auth.access import Actor, require
from ..auth.models import Region
from ..errors import Conflict, NotFound, ValidationError, _l
from ..journal.models import Fund, FundLevel
from ..money import format_cny
from ..timeutil import local_today, utcnow
from .application_models import TierBand, TierFactor, TierPolicy, TierPolicyVersion
from .models import Category, Person

FACTOR_ONE = 1000
FACTOR_MAX = 10000
BANDS_MAX = 10
POLICY_NAME_MAX = 200

#: The tiers' names, in the reader's language (第一档 ...); past the list, "tier N".
TIER_NAMES = (_l("tier 1"), _l("tier 2"), _l("tier 3"), _l("tier 4"), _l("tier 5"), _l("tier 6"),
              _l("tier 7"), _l("tier 8"), _l("tier 9"), _l("tier 10"))


class PolicyVersionUsed(Conflict):
    """This policy version has been used by a decision and can no longer be changed; add a new version instead.

    Rule: a decision keeps the version it used, so a used version is immutable."""

    code = "policy_version_used"


class PolicyExists(Conflict):
    """This fund has a tier policy already; add a new version to it instead.

    Rule: one policy per fund."""

    code = "policy_exists"


@dataclass(frozen=True)
class VersionInput:
    """The rules of one policy version; amounts in fen, factors per mille (1.0 = 1000)."""

    effective_on: date
    annual_cap_fen: int
    county_approval_max_fen: int
    once_per_household_per_year: bool = False
    bands: tuple[tuple[int, int], ...] = ()  # (threshold_fen, amount_fen)
    factors: dict = field(default_factory=dict)  # Category -> factor_permille


@dataclass(frozen=True)
class Suggestion:
    """The amount a policy version suggests, with the rule that produced it."""

    amount_fen: int
    text: str
    tier: int | None  # 1-based band number; None below the first band
    factor_permille: int


# --- pure rules -----------------------------------------------------------------------------------

def _yuan(fen: int) -> str:
    """A threshold as a person writes it: 20,000 (whole yuan) or 20,000.50."""
    if fen % 100 == 0:
        return f"{fen // 100:,}"
    return format_cny(fen, symbol=False)


def factor_text(permille: int) -> str:
    """1000 -> "1.0", 1200 -> "1.2", 1050 -> "1.05"."""
    whole, rest = divmod(permille, FACTOR_ONE)
    return f"{whole}.{(f'{rest:03d}'.rstrip('0') or '0')}"


def tier_name(number: int):
    return TIER_NAMES[number - 1] if 1 <= number <= len(TIER_NAMES) else _l("tier %(number)s", number=number)


def factor_for(version: TierPolicyVersion, categories) -> int:
    """The largest factor among the person's categories (1.0 for a category the version does not list,
    and for a person with none)."""
    table = {Category(factor.category): factor.factor_permille for factor in version.factors}
    factors = [table.get(Category(category), FACTOR_ONE) for category in categories]
    return max(factors) if factors else FACTOR_ONE


def suggest(version: TierPolicyVersion, out_of_pocket_fen: int, categories=()) -> Suggestion:
    """The suggested aid for an out-of-pocket cost: the highest band whose threshold is at most the
    cost, times the largest factor of `categories`; 0 with the reason below the first band. Pure."""
    return suggest_at_factor(version, out_of_pocket_fen, factor_for(version, categories))


def suggest_at_factor(version: TierPolicyVersion, out_of_pocket_fen: int, factor: int) -> Suggestion:
    """`suggest` with the factor given (a decision keeps its factor, so its rule can be shown again in
    any language, whatever the person's categories have become since). Pure."""
    bands = sorted(version.bands, key=lambda band: band.threshold_fen)
    cost = format_cny(out_of_pocket_fen, symbol=False)
    chosen = None
    for number, band in enumerate(bands, start=1):
        if band.threshold_fen <= out_of_pocket_fen:
            chosen = (number, band)
    if chosen is None:
        first = _yuan(bands[0].threshold_fen) if bands else "0"
        return Suggestion(0, _l("out of pocket %(cost)s is below the first tier (%(threshold)s): no tiered aid",
                                cost=cost, threshold=first), None, factor)
    number, band = chosen
    amount_fen = (band.amount_fen * factor + FACTOR_ONE // 2) // FACTOR_ONE
    values = dict(cost=cost, tier=tier_name(number), threshold=_yuan(band.threshold_fen),
                  amount=format_cny(band.amount_fen, symbol=False), factor=factor_text(factor))
    if factor == FACTOR_ONE:
        text = _l("out of pocket %(cost)s -> %(tier)s (>= %(threshold)s) %(amount)s x %(factor)s", **values)
    else:
        text = _l("out of pocket %(cost)s -> %(tier)s (>= %(threshold)s) %(amount)s x %(factor)s = %(result)s",
                  result=format_cny(amount_fen, symbol=False), **values)
    return Suggestion(amount_fen, text, number, factor)


def categories_on(person: Person, day: date) -> list[Category]:
    """The person's registry categories in effect on `day`."""
    return [Category(item.category) for item in person.categories
            if item.starts_on <= day and (item.ends_on is None or item.ends_on >= day)]


# --- checks ---------------------------------------------------------------------------------------

def _whole_fen(value, field_name: str, problems: dict, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        problems.setdefault(field_name, []).append(_l("must be a positive amount"))


def check_version(data: VersionInput) -> VersionInput:
    """Refuse a version whose rules do not hold together (ValidationError naming each field)."""
    problems: dict[str, list] = {}
    if not isinstance(data.effective_on, date) or isinstance(data.effective_on, datetime):
        problems["effective_on"] = [_l("must be a date such as 2026-01-31")]
    _whole_fen(data.annual_cap_fen, "annual_cap", problems)
    _whole_fen(data.county_approval_max_fen, "county_approval_max", problems, allow_zero=True)
    if not data.bands:
        problems["bands"] = [_l("give at least one band")]
    elif len(data.bands) > BANDS_MAX:
        problems["bands"] = [_l("at most %(max)s bands", max=BANDS_MAX)]
    else:
        thresholds = [threshold for threshold, _amount in data.bands]
        for threshold, amount in data.bands:
            _whole_fen(threshold, "bands", problems)
            _whole_fen(amount, "bands", problems)
        if len(set(thresholds)) != len(thresholds):
            problems.setdefault("bands", []).append(_l("each threshold once"))
    for category, permille in (data.factors or {}).items():
        try:
            Category(category)
        except ValueError:
            problems.setdefault("factors", []).append(_l("unknown category %(category)s", category=category))
            continue
        if isinstance(permille, bool) or not isinstance(permille, int) or not 0 < permille <= FACTOR_MAX:
            problems.setdefault("factors", []).append(
                _l("a factor is a whole number per mille from 1 to %(max)s (1.0 = 1000)", max=FACTOR_MAX))
    if problems:
        raise ValidationError(fields=problems)
    return data


# --- scope and reads ------------------------------------------------------------------------------

def policy_scope(actor: Actor):
    """A SQL condition on the policy's fund (joined as `Fund`): city-wide people every policy; everyone
    else the policies of their county's funds (the county project, its villages) and of the city fund."""
    if actor.city_wide:
        return sa.true()
    return sa.or_(Fund.level == FundLevel.city, Fund.region_id == actor.county_id,
                  Fund.region_id.in_(sa.select(Region.id).where(Region.parent_id == actor.county_id)))


def _policies_query(actor: Actor):
    return (sa.select(TierPolicy).join(Fund, Fund.id == TierPolicy.fund_id).where(policy_scope(actor))
            .options(selectinload(TierPolicy.versions).selectinload(TierPolicyVersion.bands),
                     selectinload(TierPolicy.versions).selectinload(TierPolicyVersion.factors),
                     selectinload(TierPolicy.fund)))


def list_policies(session, who) -> list[TierPolicy]:
    """The tier policies in the actor's sight, by fund code. Any role but vendors."""
    actor = require(who, "aid.policies.read")
    return list(session.scalars(_policies_query(actor).order_by(Fund.code)))


def get_policy(session, who, policy_id: int) -> TierPolicy:
    """One policy with its versions, if in sight; NotFound otherwise. Any role but vendors."""
    actor = require(who, "aid.policies.read")
    policy = session.scalar(_policies_query(actor).where(TierPolicy.id == policy_id))
    if policy is None:
        raise NotFound(_l("no tier policy %(policy)s", policy=policy_id))
    return policy


def version_on(session, fund_id: int, day: date) -> TierPolicyVersion | None:
    """The version of the fund's policy in force on `day` (None: no policy, or none yet in force).
    Internal: callers have checked access to the fund's records."""
    return session.scalar(
        sa.select(TierPolicyVersion).join(TierPolicy, TierPolicy.id == TierPolicyVersion.policy_id)
        .where(TierPolicy.fund_id == fund_id, TierPolicyVersion.effective_on <= day)
        .order_by(TierPolicyVersion.effective_on.desc(), TierPolicyVersion.version_no.desc()).limit(1)
        .options(selectinload(TierPolicyVersion.bands), selectinload(TierPolicyVersion.factors)))


def current_version(session, who, policy_id: int, day: date | None = None) -> TierPolicyVersion:
    """The version of a policy in force on `day` (today by default); NotFound when none is."""
    policy = get_policy(session, who, policy_id)
    version = version_on(session, policy.fund_id, day or local_today())
    if version is None:
        raise NotFound(_l("tier policy %(policy)s has no version in force on %(day)s", policy=policy_id,
                          day=(day or local_today()).isoformat()))
    return version


def suggest_for(session, who, policy_id: int, out_of_pocket_fen: int, categories=(),
                day: date | None = None) -> tuple[TierPolicyVersion, Suggestion]:
    """What the policy in force on `day` suggests for an out-of-pocket cost and categories (the
    amount shown as a charity types). Any role but vendors."""
    if isinstance(out_of_pocket_fen, bool) or not isinstance(out_of_pocket_fen, int) or out_of_pocket_fen < 0:
        raise ValidationError(fields={"out_of_pocket": [_l("must not be negative")]})
    version = current_version(session, who, policy_id, day)
    return version, suggest(version, out_of_pocket_fen, [Category(item) for item in categories])


# --- writes (admin) -------------------------------------------------------------------------------

def _fill(version: TierPolicyVersion, data: VersionInput) -> None:
    version.effective_on = data.effective_on
    version.annual_cap_fen = data.annual_cap_fen
    version.county_approval_max_fen = data.county_approval_max_fen
    version.once_per_household_per_year = bool(data.once_per_household_per_year)
    version.bands = [TierBand(threshold_fen=threshold, amount_fen=amount)
                     for threshold, amount in sorted(data.bands)]
    version.factors = [TierFactor(category=Category(category), factor_permille=permille)
                       for category, permille in sorted((data.factors or {}).items(), key=lambda item: str(item[0]))]


def create_policy(session, who, fund_code: str, name: str, first: VersionInput) -> TierPolicy:
    """Give a fund a tier policy with its first version. Admins only; PolicyExists when it has one."""
    actor = require(who, "aid.policies.write")
    fund = session.scalar(sa.select(Fund).where(Fund.code == fund_code))
    if fund is None:
        raise NotFound(_l("no fund %(code)s", code=fund_code), fields={"fund": [_l("no such fund")]})
    name = (name or "").strip()
    if not name or len(name) > POLICY_NAME_MAX:
        raise ValidationError(fields={"name": [_l("must not be blank")]})
    check_version(first)
    if session.scalar(sa.select(TierPolicy.id).where(TierPolicy.fund_id == fund.id)) is not None:
        raise PolicyExists(fields={"fund": [_l("has a tier policy already")]})
    policy = TierPolicy(fund_id=fund.id, name=name, created_at=utcnow(), created_by_user_id=actor.user_id)
    session.add(policy)
    session.flush()
    _add_version(session, actor, policy, first)
    return policy


def _add_version(session, actor: Actor, policy: TierPolicy, data: VersionInput) -> TierPolicyVersion:
    last = session.scalar(sa.select(sa.func.max(TierPolicyVersion.version_no))
                          .where(TierPolicyVersion.policy_id == policy.id)) or 0
    version = TierPolicyVersion(policy_id=policy.id, version_no=last + 1, created_at=utcnow(),
                                created_by_user_id=actor.user_id)
    _fill(version, data)
    session.add(version)
    session.flush()
    return version


def add_version(session, who, policy_id: int, data: VersionInput) -> TierPolicyVersion:
    """A new version of a policy (the next number), effective from `data.effective_on`. Admins only."""
    actor = require(who, "aid.policies.write")
    policy = get_policy(session, actor, policy_id)
    check_version(data)
    return _add_version(session, actor, policy, data)


def update_version(session, who, version_id: int, data: VersionInput) -> TierPolicyVersion:
    """Correct a version no decision has used yet; PolicyVersionUsed once one has. Admins only."""
    actor = require(who, "aid.policies.write")
    version = session.get(TierPolicyVersion, version_id, populate_existing=True, with_for_update=True)
    if version is None:
        raise NotFound(_l("no tier policy version %(version)s", version=version_id))
    get_policy(session, actor, version.policy_id)
    if version.used_at is not None:
        raise PolicyVersionUsed()
    check_version(data)
    version.bands.clear()
    version.factors.clear()
    session.flush()  # the old bands go before the new ones take their thresholds
    _fill(version, data)
    session.flush()
    return version


def mark_used(session, version: TierPolicyVersion, now: datetime | None = None) -> None:
    """Record that a decision used the version: from now on it is immutable. The first use wins
    (UPDATE ... WHERE used_at IS NULL: a second decision at the same moment keeps the first time)."""
    if version.used_at is None:
        session.execute(sa.update(TierPolicyVersion).where(TierPolicyVersion.id == version.id,
                                                           TierPolicyVersion.used_at.is_(None))
                        .values(used_at=now or utcnow()))
        session.refresh(version, ["used_at"])

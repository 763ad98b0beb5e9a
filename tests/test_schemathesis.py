"""The API keeps its word: schemathesis fuzzes every operation of /api/v1/openapi.json against the app.

For each documented operation, as a finance officer (who may write) and as an auditor (who may only
read), schemathesis generates requests from the document, valid ones and invalid ones, sends them to
the app in-process (WSGI) on a copy of the demo database, and runs all of its checks on each answer:
no server error, only documented status codes, content types and headers, bodies that match their
schemas, valid data accepted, invalid data refused, authentication enforced, undeclared methods
answered 405 with `Allow`. A failure of any check on any case fails the test and is listed.

The run is bounded and reproducible: `EXAMPLES_PER_OPERATION` cases per operation (split between
valid and invalid data), Hypothesis derandomized (the same cases on every run, in CI too).

Money writes are really made: most valid cases (the ones Hypothesis gives a `choice`) are pointed at
records that exist (a fund of the demo city, a county, a hold placed before the run, a county and the
city for an allocation) and given an amount a fund can afford; every valid case is dated in the
books' range (their opening date to today) and posts a hold for at most its amount (rules of the
books' state, which no static schema can state: `_keep_within_the_books`), so receipts, allocations and hold postings
answer 201; the test counts them and fails below `MONEY_WRITES_CREATED_MIN`. Every case carries the
role's token, except the negative cases about the token itself; any other case answering 401 fails.
"""
from __future__ import annotations

import collections
import datetime
import os
import time

import pytest
import sqlalchemy as sa

if os.environ.get("CI", "").lower() == "true":
    import schemathesis  # in CI the pinned tool (requirements-dev.txt) must be there: missing, it fails
else:
    schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed: make install-dev")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from ledger.extensions import db  # noqa: E402
from ledger.journal.dates import value_date_rule  # noqa: E402
from ledger.money import fen_to_decimal_string, parse_amount  # noqa: E402
from ledger.timeutil import local_today  # noqa: E402
from tests.support import bearer_headers  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Cases per operation and role: valid data, then invalid data.
EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}

MONEY_WRITES = {
    ("POST", "/api/v1/funds/{code}/receipts"),
    ("POST", "/api/v1/allocations"),
    ("POST", "/api/v1/funds/{code}/disbursements"),
    ("POST", "/api/v1/funds/{code}/holds"),
    ("POST", "/api/v1/holds/{hold_id}/post"),
}


#: Operations whose valid-looking data is refused with 422 by a rule no schema can state (a resident
#: ID's check digit, the current password, a month that has not ended, the fund tree's shape): for
#: their valid cases `positive_data_acceptance` is not asked; every other check still runs.
REFUSED_BY_RULES = {
    ("POST", "/api/v1/me/password"): "the current password must be the user's",
    ("POST", "/api/v1/funds/{code}/disbursements"): "a person's resident ID has a check digit",
    ("POST", "/api/v1/funds/{code}/holds"): "a payee's resident ID has a check digit",
    ("POST", "/api/v1/periods/{month}/close"): "a month closes once it has ended",
    ("POST", "/api/v1/allocations"): "money moves one level along the fund tree",
    ("GET", "/api/v1/reports/fund-statement.pdf"): "a report's period starts before it ends, at most three years",
    ("GET", "/api/v1/reports/journal-register.{fmt}"): "a report's period starts before it ends, at most three years",
    ("GET", "/api/v1/reports/integrity-certificate.pdf"): "a report's period starts before it ends, at most three "
                                                          "years",
    ("POST", "/api/v1/funds/{code}/receipts"): "a receipt above LARGE_RECEIPT_CONFIRM_FEN needs confirm_large_amount",
    ("POST", "/api/v1/vendors"): "a unified social credit code has a GB 32100 check character",
    ("PUT", "/api/v1/vendors/{vendor_id}"): "a unified social credit code has a GB 32100 check character",
    ("POST", "/api/v1/care/contracts"): "a contract names a county with a care budget and a term of at most three "
                                        "years that ends after it starts",
    ("POST", "/api/v1/care/contracts/{contract_id}/amendments"): "an amendment takes effect after the latest "
                                                                 "version, within the contract's term",
}

#: Operations that end the token they are called with: each of their cases gets a token of its own,
#: so the cases after them still act as the role under test.
REVOKES_ITS_TOKEN = {("POST", "/api/v1/tokens/revoke")}

#: The least number of money writes (MONEY_WRITES) a finance officer's run must see answered 201.
MONEY_WRITES_CREATED_MIN = 10


def _existing_values(app) -> dict[str, list]:
    """Values naming records that exist: the demo city's fund codes, the holds placed so far."""
    from ledger.journal.models import Fund, FundProgramme, Hold

    with app.app_context():
        # the relief tree's funds (care budgets are a tree of their own, whose receipts and holds the
        # vendors feature's contracts make)
        relief = Fund.programme == FundProgramme.relief
        codes = db.session.scalars(sa.select(Fund.code).where(relief).order_by(Fund.code)).all()
        city = db.session.execute(sa.select(Fund.id, Fund.code).where(Fund.parent_id.is_(None), relief)).all()
        counties = db.session.scalars(sa.select(Fund.code).where(Fund.parent_id.in_([row.id for row in city]))
                                      .order_by(Fund.code)).all()
        hold_amounts = dict(db.session.execute(
            sa.select(Hold.id, Hold.amount_fen).join(Fund, Fund.id == Hold.fund_id)
            .where(relief, Hold.state == "pending").order_by(Hold.id)).all())
        holds = list(hold_amounts)
        db.session.remove()
    # an allocation goes one level along the tree: the same choice pairs a county and the city, either way
    city_codes = [row.code for row in city] * len(counties)
    # a business date the books accept (from their opening date to today): the last days, newest first
    rule, today = value_date_rule(), local_today()
    dates = [today - datetime.timedelta(days=days) for days in range(20)]
    return {"code": codes, "fund": codes, "county": counties, "from_fund": counties + city_codes,
            "to_fund": city_codes + counties, "hold_id": holds,
            "value_on": [day.isoformat() for day in dates if day >= rule.earliest] or [today.isoformat()],
            "amount": ["0.01", "1.00", "12.34", "250.00", "999.99", "3000.50"], "hold_amounts": hold_amounts}


def _point_at_existing(case, values: dict[str, list], choice: int) -> None:
    """Name an existing record (picked by `choice`) wherever the case has a parameter for one, and make a
    money write one the books can take: a business date in their range, an amount a fund can afford."""
    def pick(name):
        options = values[name]
        return options[choice % len(options)] if options else None

    for container in (case.path_parameters, case.query, case.body if isinstance(case.body, dict) else None):
        if container is None:
            continue
        for name in values:
            if name in container and name != "hold_amounts" and pick(name) is not None:
                container[name] = pick(name)


def _keep_within_the_books(case, values: dict[str, list], choice: int) -> None:
    """A valid case obeys the two rules that depend on the books' state, which no static schema can
    state: a business date lies between the books' opening date and today, and a hold is posted for
    at most its own amount. Every other part of the case stays as generated."""
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    if body.get("value_on") is not None:
        body["value_on"] = values["value_on"][choice % len(values["value_on"])]
    hold_id = (case.path_parameters or {}).get("hold_id")
    if body.get("amount") is not None and hold_id in values["hold_amounts"]:
        hold_fen = values["hold_amounts"][hold_id]
        if parse_amount(body["amount"], allow_zero=True) > hold_fen:
            body["amount"] = fen_to_decimal_string(hold_fen)


class OperationFailed(Exception):
    """The cases of one operation found a failure (`error`, after `cases` cases)."""

    def __init__(self, cases: int, error: BaseException):
        super().__init__(str(error))
        self.cases, self.error = cases, error


class AuthenticatedCaseRefused(AssertionError):
    """A case sent with a valid token of the role under test answered 401."""


def _runner(operation, mode, examples: int, headers: dict, app, statuses: collections.Counter, username: str):
    """A function that runs `examples` generated cases of `operation` and returns how many ran.

    Every case carries the role's token (`headers`), except a negative case that is about the token
    (schemathesis leaves out `Authorization` then, and expects 401). Any other case that answers 401
    fails: it would otherwise pass every check while testing nothing but authentication."""
    strategy = st.tuples(operation.as_strategy(generation_mode=mode),
                         st.none() | st.integers(min_value=0, max_value=10_000))
    key = (operation.method.upper(), operation.path)
    excluded = []
    if mode is GenerationMode.POSITIVE and key in REFUSED_BY_RULES:
        excluded = [positive_data_acceptance]
    values = _existing_values(app) if mode is GenerationMode.POSITIVE else {}
    ran = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(generated):
        case, choice = generated
        if choice is not None:
            _point_at_existing(case, values, choice)
        if mode is GenerationMode.POSITIVE:
            _keep_within_the_books(case, values, choice or 0)
        ran.append(case)
        sent = headers
        if key in REVOKES_ITS_TOKEN:
            sent = bearer_headers(app, username)
            # Only a valid case may be made to name its own token: a negative case keeps its bad prefix.
            if (mode is GenerationMode.POSITIVE and choice is not None and isinstance(case.body, dict)
                    and "prefix" in case.body):
                case.body["prefix"] = sent["Authorization"].removeprefix("Bearer ")[:12]  # its own: revoked
        response = case.call_and_validate(headers=sent, excluded_checks=excluded)
        statuses[(*key, response.status_code)] += 1
        if response.status_code == 401 and response.request.headers.get("Authorization") == sent["Authorization"]:
            raise AuthenticatedCaseRefused(f"answered 401 to a case with a valid token: {response.text[:300]}")

    def run() -> int:
        try:
            check()
        except Unsatisfiable:
            # nothing in the document can be made invalid (no parameters, or a free-text path value)
            return len(ran)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001  (schemathesis groups its failures)
            raise OperationFailed(len(ran), error) from error
        return len(ran)

    return run


def run_schemathesis(app, username: str) -> dict:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer_headers(app, username)
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    operations = cases = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, examples in EXAMPLES_PER_OPERATION.items():
            runner = _runner(operation, mode, examples, headers, app, statuses, username)
            try:
                cases += runner()
            except OperationFailed as failed:  # every operation runs; all failures are listed
                cases += failed.cases
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {failed.error}")
    return {"operations": operations, "cases": cases, "failures": failures, "statuses": statuses,
            "seconds": time.monotonic() - started}


def _money_writes_created(outcome: dict) -> int:
    return sum(count for (method, path, status), count in outcome["statuses"].items()
               if (method, path) in MONEY_WRITES and status == 201)


def _report(role: str, outcome: dict) -> str:
    by_status: collections.Counter = collections.Counter()
    for (_method, _path, status), count in outcome["statuses"].items():
        by_status[status] += count
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(by_status.items()))
    created = ", ".join(f"{method} {path}: {count}"
                        for (method, path, status), count in sorted(outcome["statuses"].items())
                        if (method, path) in MONEY_WRITES and status == 201)
    return (f"{role}: {outcome['operations']} operations, {outcome['cases']} cases, "
            f"{len(outcome['failures'])} failures, {_money_writes_created(outcome)} money writes answered 201, "
            f"{outcome['seconds']:.1f} s; answers by status: {statuses}"
            + (f"; 201 by write: {created}" if created else ""))


def test_the_api_keeps_its_word_for_a_finance_officer(demo_app, capsys):
    outcome = run_schemathesis(demo_app, "finance")
    with capsys.disabled():
        print("\n" + _report("finance", outcome))
    assert not outcome["failures"], "\n\n".join(outcome["failures"])
    assert _money_writes_created(outcome) >= MONEY_WRITES_CREATED_MIN, (
        "too few money writes succeeded: " + repr(sorted(outcome["statuses"].items())))


def test_the_api_keeps_its_word_for_an_auditor(demo_app, capsys):
    outcome = run_schemathesis(demo_app, "auditor")
    with capsys.disabled():
        print("\n" + _report("auditor", outcome))
    assert not outcome["failures"], "\n\n".join(outcome["failures"])
    assert not any(status == 201 for (_method, _path, status) in outcome["statuses"]), "an auditor wrote"

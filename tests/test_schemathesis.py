"""The API keeps its word: schemathesis fuzzes every operation of /api/v1/openapi.json against the app.

For each documented operation, as a finance officer (who may write) and as an auditor (who may only
read), schemathesis generates requests from the document, valid ones and invalid ones, sends them to
the app in-process (WSGI) on a copy of the demo database, and runs all of its checks on each answer:
no server error, only documented status codes, content types and headers, bodies that match their
schemas, valid data accepted, invalid data refused, authentication enforced, undeclared methods
answered 405 with `Allow`. A failure of any check on any case fails the test and is listed.

The run is bounded and reproducible: `EXAMPLES_PER_OPERATION` cases per operation (split between
valid and invalid data), Hypothesis derandomized (the same cases on every run, in CI too).

Money writes are really made: half of the generated requests to a path with a fund `code` or a
`hold_id` are pointed at one that exists (a fund of the demo city, a hold placed before the run),
and the amounts come from the document's pattern, so some receipts, allocations, disbursements and
holds answer 201; the test counts them and fails when none did.
"""
from __future__ import annotations

import collections
import time

import pytest
import sqlalchemy as sa

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from ledger.extensions import db  # noqa: E402
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
    ("POST", "/api/v1/funds/{code}/receipts"): "a receipt above LARGE_RECEIPT_CONFIRM_FEN needs confirm_large_amount",
}


def _existing_values(app) -> dict[str, list]:
    """Values naming records that exist: the demo city's fund codes, the holds placed so far."""
    from ledger.journal.models import Fund, Hold

    with app.app_context():
        codes = db.session.scalars(sa.select(Fund.code).order_by(Fund.code)).all()
        city = db.session.execute(sa.select(Fund.id, Fund.code).where(Fund.parent_id.is_(None))).all()
        counties = db.session.scalars(sa.select(Fund.code).where(Fund.parent_id.in_([row.id for row in city]))
                                      .order_by(Fund.code)).all()
        holds = db.session.scalars(sa.select(Hold.id).order_by(Hold.id)).all()
        db.session.remove()
    # an allocation goes one level along the tree: counties to and from, the city among them
    city_codes = [row.code for row in city]
    return {"code": codes, "fund": codes, "from_fund": counties + city_codes, "to_fund": counties + city_codes,
            "hold_id": holds}


def _point_at_existing(case, values: dict[str, list], choice: int) -> None:
    """Name an existing record (picked by `choice`) wherever the case has a parameter for one."""
    def pick(name):
        options = values[name]
        return options[choice % len(options)] if options else None

    for container in (case.path_parameters, case.query, case.body if isinstance(case.body, dict) else None):
        if container is None:
            continue
        for name in values:
            if name in container and pick(name) is not None:
                container[name] = pick(name)


class OperationFailed(Exception):
    """The cases of one operation found a failure (`error`, after `cases` cases)."""

    def __init__(self, cases: int, error: BaseException):
        super().__init__(str(error))
        self.cases, self.error = cases, error


def _runner(operation, mode, examples: int, headers: dict, app, statuses: collections.Counter):
    """A function that runs `examples` generated cases of `operation` and returns how many ran."""
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
        ran.append(case)
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        statuses[(*key, response.status_code)] += 1

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
            runner = _runner(operation, mode, examples, headers, app, statuses)
            try:
                cases += runner()
            except OperationFailed as failed:  # every operation runs; all failures are listed
                cases += failed.cases
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {failed.error}")
    return {"operations": operations, "cases": cases, "failures": failures, "statuses": statuses,
            "seconds": time.monotonic() - started}


def _report(role: str, outcome: dict) -> str:
    written = sum(count for (method, path, status), count in outcome["statuses"].items()
                  if (method, path) in MONEY_WRITES and status == 201)
    return (f"{role}: {outcome['operations']} operations, {outcome['cases']} cases, "
            f"{len(outcome['failures'])} failures, {written} money writes answered 201, "
            f"{outcome['seconds']:.1f} s")


def test_the_api_keeps_its_word_for_a_finance_officer(demo_app, capsys):
    outcome = run_schemathesis(demo_app, "finance")
    with capsys.disabled():
        print("\n" + _report("finance", outcome))
    assert not outcome["failures"], "\n\n".join(outcome["failures"])
    written = {(method, path) for (method, path, status) in outcome["statuses"] if status == 201}
    assert written & MONEY_WRITES, "no money write succeeded: " + repr(outcome["statuses"])


def test_the_api_keeps_its_word_for_an_auditor(demo_app, capsys):
    outcome = run_schemathesis(demo_app, "auditor")
    with capsys.disabled():
        print("\n" + _report("auditor", outcome))
    assert not outcome["failures"], "\n\n".join(outcome["failures"])
    assert not any(status == 201 for (_method, _path, status) in outcome["statuses"]), "an auditor wrote"

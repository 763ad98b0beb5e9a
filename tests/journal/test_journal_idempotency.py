"""Idempotency keys: the same request runs once; the same key with another body is refused."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.errors import IdempotencyConflict, LedgerError
from ledger.funds import services
from ledger.idempotency import request_fingerprint, run_idempotent
from ledger.idempotency import IdempotencyRecord
from ledger.journal.models import JournalEntry
from tests.journal.factories import YUTAI, on


def receipt_operation(session, user, amount_fen, calls):
    def operation():
        calls.append(amount_fen)
        entry = services.record_receipt(session, user, YUTAI, amount_fen, source="donation", payer_name="捐赠人",
                                        value_on=on(1, 5), idempotency_key="k-1")
        return 201, {"voucher_no": entry.voucher_no}
    return operation


def test_a_replay_returns_the_first_result_without_running(session, finance):
    calls = []
    fingerprint = request_fingerprint("POST", "/api/v1/funds/370827/receipts", b'{"amount": "10.00"}')
    first = run_idempotent(session, finance.id, "k-1", fingerprint, receipt_operation(session, finance, 10_00, calls))
    session.commit()
    again = run_idempotent(session, finance.id, "k-1", fingerprint, receipt_operation(session, finance, 10_00, calls))
    session.commit()
    assert first == again == (201, {"voucher_no": "JZ-2026-370827-000001"})
    assert calls == [10_00]
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 1


def test_the_same_key_with_another_body_is_refused(session, finance):
    calls = []
    run_idempotent(session, finance.id, "k-1", request_fingerprint("POST", "/x", b'{"amount": "10.00"}'),
                   receipt_operation(session, finance, 10_00, calls))
    session.commit()
    with pytest.raises(IdempotencyConflict) as refused:
        run_idempotent(session, finance.id, "k-1", request_fingerprint("POST", "/x", b'{"amount": "99.00"}'),
                       receipt_operation(session, finance, 99_00, calls))
    assert refused.value.status == 409
    session.rollback()
    assert calls == [10_00]


def test_a_refused_request_leaves_no_record_so_a_corrected_retry_works(session, finance):
    fingerprint = request_fingerprint("POST", "/x", b"{}")

    def refused():
        raise services.ValidationError(fields={"amount": ["must be a positive amount"]})

    with pytest.raises(LedgerError):
        run_idempotent(session, finance.id, "k-2", fingerprint, refused)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)) == 0
    assert run_idempotent(session, finance.id, "k-2", fingerprint, lambda: (200, {"ok": True})) == (200, {"ok": True})


def test_keys_belong_to_their_user(session, finance, admin):
    fingerprint = request_fingerprint("POST", "/x", b"{}")
    assert run_idempotent(session, finance.id, "same", fingerprint, lambda: (200, {"who": "finance"}))[1] == {
        "who": "finance"}
    assert run_idempotent(session, admin.id, "same", fingerprint, lambda: (200, {"who": "admin"}))[1] == {
        "who": "admin"}

"""The database goes away in the middle of a burst of money-moving API posts, and comes back.

A bounded burst: 40 writes (20 receipts into 鱼台县's project, 20 payments out of it), each with its own
Idempotency-Key, sent by real threads through the real app (its WSGI stack, its connection pool)
against PostgreSQL, in rounds:

1. 10 writes with the database well: all posted, and the pool keeps idle connections;
2. every backend of the app is terminated while idle (`pg_terminate_backend`, as a crash or a
   failover does); the next 6 writes, with no restart, are all posted: the pool's pre-ping finds
   the dead connections and replaces them before a request uses one;
3. 8 writes that reach the database and queue behind a lock on the fund (proved by
   `pg_stat_activity`, not by sleeping), when every backend of the app is terminated: each answers
   503 `database_unavailable` with `Retry-After`, and none of them left anything behind;
4. 6 writes right after, with no restart: all posted (SQLAlchemy invalidated the pool on the
   disconnect);
5. the database refuses connections (`ALLOW_CONNECTIONS false`, the app's backends terminated):
   8 writes and a read answer 503 `database_unavailable` with `Retry-After`, nothing written;
6. connections allowed again: the last 2 writes and the 16 refused ones retried with the same keys
   and bodies, at once: all posted;
7. all 40 sent again with their keys (two rounds of 20): each answers its first result, the same
   voucher.

Then the books hold each write exactly once: 40 vouchers for 40 keys, the fund's balance is the
opening donation plus the receipts minus the payments, the maintained balances equal the postings'
sums, and the hash chains verify. Every wait has a deadline within the test's 30-second budget.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.funds import services
from ledger.idempotency import IdempotencyRecord
from ledger.journal.balances import maintained_differences
from ledger.journal.chain import verify_journal
from ledger.journal.models import Fund, JournalEntry
from tests.conftest import PG_SERVER_URL
from tests.journal.factories import YUTAI, ZHANG_ID, add_user, build_tree, on
from tests.support import bearer_headers, wait_for_blocked_backends, wait_until

pytestmark = pytest.mark.postgres

OPENING_FEN = 100_000_00
BUDGET_SECONDS = 30.0


class Budget:
    """The whole test's time bound: every wait gets what is left of it."""

    def __init__(self, seconds: float):
        self.ends_at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.ends_at - time.monotonic()
        assert left > 0, f"the test ran over its {BUDGET_SECONDS} s budget"
        return left


@dataclass(frozen=True)
class Write:
    """One money-moving POST with its own Idempotency-Key; `delta_fen` is what it does to the fund."""

    index: int
    key: str
    path: str
    body: dict
    delta_fen: int

    @property
    def memo(self) -> str:
        return self.body["memo"]


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    retry_after: str | None


def burst(run_id: str) -> list[Write]:
    writes = []
    for index in range(40):
        memo = f"burst {run_id} #{index:02d}"
        key = f"fault-{run_id}-{index:02d}"
        if index % 2 == 0:
            amount_fen = 1_000_00 + index  # distinct amounts, so a lost or doubled write shows in the sum
            body = {"amount": f"{amount_fen // 100}.{amount_fen % 100:02d}", "source": "donation",
                    "payer_name": "济宁爱心企业", "memo": memo}
            writes.append(Write(index, key, f"/api/v1/funds/{YUTAI}/receipts", body, amount_fen))
        else:
            amount_fen = 300_00 + index
            body = {"amount": f"{amount_fen // 100}.{amount_fen % 100:02d}", "purpose": "medical_aid",
                    "payee": {"kind": "person", "name": "张秀英", "id_number": ZHANG_ID}, "memo": memo}
            writes.append(Write(index, key, f"/api/v1/funds/{YUTAI}/disbursements", body, -amount_fen))
    return writes


class Sender:
    """Sends writes from real threads, released together by a barrier; each thread its own client."""

    def __init__(self, app, headers: dict, budget: Budget):
        self.app, self.headers, self.budget = app, headers, budget
        self.pool = ThreadPoolExecutor(max_workers=self.THREADS, thread_name_prefix="burst")

    THREADS = 24

    def start(self, writes: list[Write]) -> list[Future]:
        assert len(writes) <= self.THREADS, "a round is released together: one thread per write"
        barrier = threading.Barrier(len(writes))

        def one(write: Write) -> Answer:
            client = self.app.test_client()
            barrier.wait(timeout=self.budget.left())
            response = client.post(write.path, json=write.body,
                                   headers={**self.headers, "Idempotency-Key": write.key})
            return Answer(response.status_code, response.get_json(), response.headers.get("Retry-After"))

        return [self.pool.submit(one, write) for write in writes]

    def collect(self, futures: list[Future]) -> list[Answer]:
        return [future.result(timeout=self.budget.left()) for future in futures]

    def send(self, writes: list[Write]) -> list[Answer]:
        return self.collect(self.start(writes))

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


def assert_unavailable(answers: list[Answer]):
    for answer in answers:
        assert answer.status == 503, answer
        assert answer.body["error"]["code"] == "database_unavailable", answer
        assert answer.retry_after == "5" and answer.body["error"]["retry_after_seconds"] == 5, answer


def written(engine, writes: list[Write]) -> dict[str, list[str]]:
    """memo -> vouchers carrying it, and key -> idempotency records, read straight from the database."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(JournalEntry.memo, JournalEntry.voucher_no)
                                  .where(JournalEntry.memo.in_([w.memo for w in writes]))).all()
        keys = connection.execute(sa.select(IdempotencyRecord.key)
                                  .where(IdempotencyRecord.key.in_(["api:" + w.key for w in writes]))).scalars()
        found: dict[str, list[str]] = {}
        for memo, voucher_no in rows:
            found.setdefault(memo, []).append(voucher_no)
        for key in keys:
            found.setdefault(key, []).append("record")
        return found


def app_backends(connection, database: str) -> int:
    return connection.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                              {"name": database}).scalar_one()


@pytest.fixture
def books(app, session):
    """The fund tree, a finance officer with an API token, and an opening donation of 100,000.00."""
    build_tree(session)
    finance = add_user(session, "wang_kuaiji", "finance")
    services.record_receipt(session, finance, YUTAI, OPENING_FEN, source="donation", payer_name="开户捐赠",
                            value_on=on(1, 5))
    session.commit()
    session.remove()
    return bearer_headers(app, "wang_kuaiji")


def test_writes_survive_terminated_backends_and_refused_connections_once_each(app, books):
    budget = Budget(BUDGET_SECONDS)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    database = sa.engine.make_url(url).database
    writes = burst(uuid.uuid4().hex[:8])
    normal, after_idle, terminated, after, refused, last = (
        writes[0:10], writes[10:16], writes[16:24], writes[24:30], writes[30:38], writes[38:40])
    first_voucher: dict[str, str] = {}  # key -> voucher of its first 201

    def posted(round_writes, answers):
        for write, answer in zip(round_writes, answers):
            assert answer.status == 201, (write.index, answer)
            first_voucher.setdefault(write.key, answer.body["voucher_no"])

    # A connection of the test's own to the app's database (holds the fund's row lock, terminates
    # the others), and one to the server's maintenance database (refuses connections to the app's).
    observer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    sender = Sender(app, books, budget)
    try:
        # 1. All well.
        posted(normal, sender.send(normal))

        # 2. The app's idle connections die under it; the next writes do not notice.
        with app.app_context():
            assert db.engine.pool.checkedin() > 0, "the pool should hold idle connections by now"
        # (autocommit: within a transaction pg_stat_activity would show one unchanging snapshot)
        with observer.connect().execution_options(isolation_level="AUTOCOMMIT") as killer:
            others = ("SELECT count(*) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
            killer.execute(sa.text(others.replace("count(*)", "pg_terminate_backend(pid)")))
            wait_until(lambda: killer.execute(sa.text(others)).scalar_one() == 0, timeout=budget.left(),
                       message="the app's backends to end")
        posted(after_idle, sender.send(after_idle))

        # 3. Eight writes in flight, queued behind the fund's row lock, when the app's backends die.
        with observer.connect() as holder:
            holder.execute(sa.text("SELECT id FROM funds WHERE code = :code FOR UPDATE"), {"code": YUTAI})
            in_flight = sender.start(terminated)
            wait_for_blocked_backends(observer, len(terminated), timeout=budget.left())
            killed = holder.execute(sa.text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
            assert killed >= len(terminated)
            holder.rollback()
        assert_unavailable(sender.collect(in_flight))
        assert written(observer, terminated) == {}, "a write cut off by the failure left something behind"

        # 4. No restart: the same app reconnects and posts.
        posted(after, sender.send(after))

        # 5. The database refuses every connection: reads and writes answer 503, nothing is written.
        with server.connect() as admin:
            admin.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            try:
                admin.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                      " WHERE datname = :name"), {"name": database})
                wait_until(lambda: app_backends(admin, database) == 0, timeout=budget.left(),
                           message="the app's backends to end")
                assert_unavailable(sender.send(refused))
                read = app.test_client().get(f"/api/v1/funds/{YUTAI}", headers=books)
                assert_unavailable([Answer(read.status_code, read.get_json(), read.headers.get("Retry-After"))])
                assert app_backends(admin, database) == 0
            finally:
                admin.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        assert written(observer, refused) == {}

        # 6. Back: the last writes and every refused one, retried with the same key and body, at once.
        retried = last + terminated + refused
        posted(retried, sender.send(retried))

        # 7. Every key again: its first result, the same voucher, nothing run twice.
        replayed = sender.send(writes[:20]) + sender.send(writes[20:])
        for write, answer in zip(writes, replayed):
            assert (answer.status, answer.body["voucher_no"]) == (201, first_voucher[write.key]), write.index

        # Each write is in the books exactly once, under the voucher its client was given.
        found = written(observer, writes)
        for write in writes:
            assert found[write.memo] == [first_voucher[write.key]], write.index
            assert found["api:" + write.key] == ["record"], write.index
        assert len(set(first_voucher.values())) == len(writes)

        expected_fen = OPENING_FEN + sum(write.delta_fen for write in writes)
        response = app.test_client().get(f"/api/v1/funds/{YUTAI}", headers=books)
        assert response.status_code == 200
        with app.app_context():
            fund = db.session.scalar(sa.select(Fund).where(Fund.code == YUTAI))
            assert (fund.balance_posted_fen, fund.pending_fen) == (expected_fen, 0)
            assert response.get_json()["posted"] == f"{expected_fen // 100}.{expected_fen % 100:02d}"
            assert maintained_differences(db.session) == []
            result = verify_journal(db.session)
            assert result.ok, result.problem
            assert (result.entry_count, result.chain_count) == (1 + len(writes), 1)
            db.session.rollback()
    finally:
        sender.close()
        observer.dispose()
        server.dispose()

"""Hostile input at the API's edge (issue 10, points 3 to 6): control characters and lone
surrogates in any text field, nesting deep enough to exhaust a recursive parser, numbers past
their documented maxima, digits of other scripts and dates that are not ISO, and a chunked body
past the size limit. Each is refused with a clear answer naming the field, and nothing is
written; what is already stored (written before the edge refused it) still exports.

Runs on the demo city (`demo_app`), on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import csv
import http.client
import io
import itertools
import json
import threading

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from ledger.extensions import db
from ledger.journal.models import JournalEntry

YUTAI = "370827"
_keys = itertools.count(1)

#: Characters no text may hold: NUL, another C0 control, ESC, DEL, a C1 control.
CONTROL_CHARACTERS = ["\x00", "\x01", "\x1b", "\x7f", "\x85"]


@pytest.fixture
def headers_of(demo_app, demo_token_for):
    tokens = {}

    def headers(username: str, **extra) -> dict:
        if username not in tokens:
            tokens[username] = demo_token_for(username)
        return {**tokens[username], **extra}

    return headers


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def _entry_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error


# --- the write schemas, read from the OpenAPI document ------------------------------------------

def _resolve(document, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    for combined in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combined, []):
            part = _resolve(document, part)
            if part.get("type") == "object" or "properties" in part:
                return part
    return schema


def _text_fields(document, schema: dict, path: tuple = ()) -> list[tuple]:
    """Every string property of a request body (nested objects' ones under their parent's name)."""
    schema = _resolve(document, schema)
    found = []
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(document, prop)
        if prop.get("type") == "string" or (isinstance(prop.get("type"), list) and "string" in prop["type"]):
            found.append((*path, name))
        elif "properties" in prop:
            found.extend(_text_fields(document, prop, (*path, name)))
    return found


#: A path value for each parameter of the write paths (records of the demo city where one is needed).
PATH_VALUES = {"code": YUTAI, "voucher_no": "JZ-2026-370827-000001", "hold_id": "1", "month": "2026-01",
               "username": "finance", "person_id": "1", "category_id": "1", "member_id": "2", "vendor_id": "1",
               "worker_id": "1", "contract_id": "1", "application_id": "1", "policy_id": "1", "visit_id": "41",
               "upload_id": "2"}
#: Who may read a list that auditors may not (the reviewer queue is for reviewers).
READER = {"/api/v1/aid/queue": "reviewer"}
#: Who may make each write (others are refused before the body is read).
WRITER = {"/api/v1/users": "admin", "/api/v1/organisations": "admin", "/api/v1/periods/{month}/reopen": "admin",
          "/api/v1/aid/persons": "reviewer", "/api/v1/aid/persons/import": "reviewer",
          **{f"/api/v1/aid/persons/{{person_id}}{tail}": "reviewer"
             for tail in ("/contact", "/categories", "/categories/{category_id}/end", "/bank-card", "/household/head",
                          "/household/members")},
          "/api/v1/vendors/{vendor_id}/workers": "vendor", "/api/v1/vendors/{vendor_id}/workers/import": "vendor",
          "/api/v1/aid/policies": "admin", "/api/v1/aid/policies/{policy_id}/versions": "admin",
          **{f"/api/v1/aid/applications{tail}": "reviewer" for tail in (
              "", "/{application_id}/resubmit", "/{application_id}/withdraw", "/{application_id}/approve",
              "/{application_id}/return", "/{application_id}/reject", "/{application_id}/escalate",
              "/{application_id}/cancel-approval", "/{application_id}/follow-up")},
          "/api/v1/care/persons/{person_id}/assessments": "reviewer",
          "/api/v1/care/persons/{person_id}/statuses": "reviewer",
          "/api/v1/care/persons/{person_id}/assignments": "reviewer", "/api/v1/care/persons/import": "reviewer",
          "/api/v1/care/visits": "vendor", "/api/v1/care/visits/uploads": "vendor",
          "/api/v1/care/visits/{visit_id}/resolution": "vendor"}


def _write_operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if method not in ("post", "patch", "put") or body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            for field in _text_fields(document, schema):
                yield method, path, field


def _nest(field: tuple, value) -> dict:
    body = value
    for name in reversed(field):
        body = {name: body}
    return body


def _named(error: dict, field: tuple) -> list[str]:
    named = error["fields"]
    for name in field:
        assert name in named, (field, error)
        named = named[name]
    return named


def test_every_text_field_of_every_write_refuses_control_characters_naming_the_field(demo_app, client, headers_of):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = list(_write_operations(document))
    seen_fields = {"/".join(field) for _method, _path, field in operations}
    # The enumeration really reaches the texts the issue names.
    assert {"memo", "payer_name", "payee/name", "display_name", "reason", "name", "prefix"} <= seen_fields, seen_fields
    assert len(operations) >= 25
    before = _entry_count(demo_app)
    for method, path, field in operations:
        url = path
        for name, value in PATH_VALUES.items():
            url = url.replace("{" + name + "}", value)
        username = WRITER.get(path, "finance")
        for character in CONTROL_CHARACTERS:
            body = json.dumps(_nest(field, f"韩进{character}备注"))
            response = client.open(url, method=method.upper(), data=body, content_type="application/json",
                                   headers=headers_of(username, **{"Idempotency-Key": f"hostile-{next(_keys)}"}))
            error = _error(response, 422, "validation_error")
            messages = _named(error, field)
            assert any(f"U+{ord(character):04X}" in message for message in messages), (method, path, field, error)
        # A lone surrogate can only travel as a JSON escape: the raw bytes of the body.
        raw = json.dumps(_nest(field, "PLACEHOLDER")).replace("PLACEHOLDER", "\\ud800").encode()
        response = client.open(url, method=method.upper(), data=raw, content_type="application/json",
                               headers=headers_of(username, **{"Idempotency-Key": f"hostile-{next(_keys)}"}))
        error = _error(response, 422, "validation_error")
        assert any("U+D800" in message for message in _named(error, field)), (method, path, field, error)
    assert _entry_count(demo_app) == before


@pytest.mark.parametrize("raw, field", [(b'{"memo": "\\ud800", "amount": "1.00"}', "memo"),
                                        (b'{"memo": "a\\u0000b", "amount": "1.00"}', "memo"),
                                        (b'{"payer_name": "\\udfff\\ud800", "amount": "1.00"}', "payer_name")])
def test_a_receipt_with_an_escaped_nul_or_lone_surrogate_is_422_and_posts_nothing(demo_app, client, headers_of, raw,
                                                                                 field):
    before = _entry_count(demo_app)
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts", data=raw, content_type="application/json",
                           headers=headers_of("finance", **{"Idempotency-Key": f"raw-{next(_keys)}"}))
    error = _error(response, 422, "validation_error")
    assert set(error["fields"]) == {field}
    assert _entry_count(demo_app) == before


def test_a_display_name_with_a_nul_is_refused_and_the_name_is_kept(demo_app, client, headers_of):
    response = client.patch("/api/v1/me", data=b'{"display_name": "\\u0000admin"}', content_type="application/json",
                            headers=headers_of("finance"))
    assert "display_name" in _error(response, 422, "validation_error")["fields"]
    shown = client.get("/api/v1/me", headers=headers_of("finance")).get_json()["display_name"]
    assert "\x00" not in shown and shown


def test_tab_and_line_breaks_are_kept_in_a_memo(demo_app, client, headers_of):
    memo = "第一行\t韩进\r\n第二行\n第三行"
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts",
                           json={"amount": "12.34", "payer_name": "韩进", "source": "donation", "memo": memo},
                           headers=headers_of("finance", **{"Idempotency-Key": f"tab-{next(_keys)}"}))
    assert response.status_code == 201, response.get_json()
    voucher = response.get_json()["voucher_no"]
    entry = client.get(f"/api/v1/entries/{voucher}", headers=headers_of("finance")).get_json()
    assert entry["memo"] == "第一行\t韩进\n第二行\n第三行"


# --- exports of what is already stored ------------------------------------------------------------

def test_the_exports_open_even_when_a_stored_memo_and_payer_hold_control_characters(demo_app, client, headers_of):
    """Rows stored before the edge refused such characters (here put there with a raw UPDATE)
    must not break the registers of their fund and of the city above it for good: entries are
    never deleted."""
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts",
                           json={"amount": "66.00", "payer_name": "韩进", "source": "donation", "memo": "捐赠"},
                           headers=headers_of("finance", **{"Idempotency-Key": f"export-{next(_keys)}"}))
    assert response.status_code == 201, response.get_json()
    voucher = response.get_json()["voucher_no"]
    _store_raw(demo_app, voucher, memo="捐\x01赠\x1b[31m\x0b", payer="韩\x00进\x7f")

    finance = headers_of("finance")
    # The county's register and the city's (which rolls up every fund below it).
    for fund, fmt in itertools.product((YUTAI, "370800"), ("xlsx", "csv")):
        query = {"fund": fund, "from": "2026-01-01", "to": "2026-12-31"}
        response = client.get(f"/api/v1/reports/journal-register.{fmt}", query_string=query, headers=finance)
        assert response.status_code == 200, response.get_data(as_text=True)[:1000]
        if fmt == "xlsx":
            cells = [cell for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
                     for cell in row if isinstance(cell, str)]
        else:
            cells = [cell for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))) for cell in row]
        assert any(cell.startswith("捐\ufffd赠") for cell in cells), (fund, fmt)
        assert not any(ch in cell for cell in cells for ch in "\x00\x01\x0b\x1b\x7f"), (fund, fmt)
    # The voucher list (web) as a spreadsheet, by the finance officer.
    from tests.support import signed_in_client

    web = signed_in_client(demo_app, "finance")
    response = web.get(f"/funds/entries?fund={YUTAI}&export=xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    cells = [cell for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
             for cell in row if isinstance(cell, str)]
    assert any("\ufffd" in cell for cell in cells)
    response = web.get(f"/funds/entries?fund={YUTAI}&export=csv")
    assert response.status_code == 200


def _store_raw(app, voucher: str, *, memo: str, payer: str) -> None:
    """Write the characters into the stored entry with plain SQL, past every check of the app (the
    append-only triggers are set aside for this one transaction: replica mode on PostgreSQL,
    dropped and recreated on SQLite)."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            # PostgreSQL refuses NUL in text at all: store what it can hold.
            memo, payer = memo.replace("\x00", ""), payer.replace("\x00", "")
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            triggers = connection.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal_entries'"
                " AND sql LIKE '%UPDATE%'")).all()
            for name, _sql in triggers:
                connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
        columns = {column.name for column in JournalEntry.__table__.columns}
        payer_column = next(name for name in ("counterparty_name", "payer_name", "party_name") if name in columns)
        connection.execute(sa.text(f"UPDATE journal_entries SET memo = :memo, {payer_column} = :payer"
                                   " WHERE voucher_no = :voucher"), {"memo": memo, "payer": payer, "voucher": voucher})
        if connection.dialect.name == "sqlite":
            for _name, sql in triggers:
                connection.execute(sa.text(sql))
        db.session.commit()
        stored = db.session.scalar(sa.select(JournalEntry.memo).where(JournalEntry.voucher_no == voucher))
        assert "\x01" in stored


# --- nesting, page numbers and numeric maxima ----------------------------------------------------

@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"memo": ' + b'{"a": ' * 50_000 + b"1" +
                                  b"}" * 50_001, b"[" * 100_000])
def test_json_nested_a_hundred_thousand_deep_is_400_with_a_clear_message(demo_app, client, headers_of, body):
    before = _entry_count(demo_app)
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts", data=body, content_type="application/json",
                           headers=headers_of("finance", **{"Idempotency-Key": f"deep-{next(_keys)}"}))
    error = _error(response, 400, "bad_request")
    assert "nest" in error["message"].lower() or "not valid JSON" in error["message"], error
    assert _entry_count(demo_app) == before


def test_json_nested_past_the_limit_names_the_limit(client, headers_of):
    from ledger.requests import JSON_DEPTH_MAX

    body = b'{"memo": ' + b"[" * JSON_DEPTH_MAX + b"]" * JSON_DEPTH_MAX + b"}"
    response = client.patch("/api/v1/me", data=body, content_type="application/json", headers=headers_of("finance"))
    error = _error(response, 400, "bad_request")
    assert str(JSON_DEPTH_MAX) in error["message"], error


@pytest.mark.parametrize("page", [str(10**30), str(2**63), "100001"])
def test_a_page_number_past_the_maximum_is_422_naming_page(client, headers_of, page):
    response = client.get(f"/api/v1/funds/{YUTAI}/entries", query_string={"page": page}, headers=headers_of("finance"))
    assert "page" in _error(response, 422, "validation_error")["fields"]


def test_a_web_list_page_past_the_maximum_is_refused(demo_app):
    from tests.support import signed_in_client

    response = signed_in_client(demo_app, "finance").get(f"/funds/entries?page={10**30}")
    assert response.status_code == 422


def test_the_report_log_limit_past_its_maximum_is_422_naming_limit(client, headers_of):
    response = client.get("/api/v1/reports/log", query_string={"limit": "205040796050"}, headers=headers_of("auditor"))
    assert "limit" in _error(response, 422, "validation_error")["fields"]


def _numeric_query_parameters(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                parameter = _resolve(document, parameter)
                if parameter.get("in") == "query" and parameter["schema"].get("type") in ("integer", "number"):
                    yield method, path, parameter


def test_every_numeric_query_parameter_has_a_maximum_that_is_enforced(client, headers_of):
    document = client.get("/api/v1/openapi.json").get_json()
    parameters = list(_numeric_query_parameters(document))
    assert {parameter["name"] for _m, _p, parameter in parameters} >= {"page", "per_page", "limit"}
    for method, path, parameter in parameters:
        schema = parameter["schema"]
        assert "maximum" in schema, (path, parameter["name"])
        url = path
        for name, value in PATH_VALUES.items():
            url = url.replace("{" + name + "}", value)
        name = parameter["name"]
        reader = READER.get(path, "auditor")
        at_maximum = client.open(url, method=method.upper(), query_string={name: str(schema["maximum"])},
                                 headers=headers_of(reader))
        assert at_maximum.status_code == 200, (path, name, at_maximum.get_json())
        for above in (schema["maximum"] + 1, 10**30):
            response = client.open(url, method=method.upper(), query_string={name: str(above)},
                                   headers=headers_of(reader))
            error = _error(response, 422, "validation_error")
            assert name in error["fields"], (path, name, error)
            assert str(schema["maximum"]) in " ".join(error["fields"][name]), (path, name, error)


# --- ASCII digits and ISO dates -------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["١٠٠", "१००", "１００.００", "１００", "100.０", "٣.٥٠"])
def test_an_amount_in_other_digits_is_422_on_amount(demo_app, client, headers_of, amount):
    before = _entry_count(demo_app)
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts", json={"amount": amount, "payer_name": "韩进", "source": "donation"},
                           headers=headers_of("finance", **{"Idempotency-Key": f"digits-{next(_keys)}"}))
    assert set(_error(response, 422, "validation_error")["fields"]) == {"amount"}
    assert _entry_count(demo_app) == before


@pytest.mark.parametrize("value_on", ["20261201", "2026-W48-2", "2026-336", "２０２６-１２-０１", "2026-1-5",
                                      "2026-01-05T00:00:00"])
def test_a_date_not_written_yyyy_mm_dd_is_422_naming_the_field(demo_app, client, headers_of, value_on):
    before = _entry_count(demo_app)
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts",
                           json={"amount": "1.00", "payer_name": "韩进", "source": "donation", "value_on": value_on},
                           headers=headers_of("finance", **{"Idempotency-Key": f"date-{next(_keys)}"}))
    error = _error(response, 422, "validation_error")
    assert set(error["fields"]) == {"value_on"}
    assert "YYYY-MM-DD" in error["fields"]["value_on"][0]
    assert _entry_count(demo_app) == before


@pytest.mark.parametrize("field, value", [("as_of", "20261201"), ("as_of", "2026-W48-2")])
def test_a_query_date_not_written_yyyy_mm_dd_is_422_naming_it(client, headers_of, field, value):
    response = client.get("/api/v1/trial-balance", query_string={field: value}, headers=headers_of("auditor"))
    assert field in _error(response, 422, "validation_error")["fields"]


def test_an_ascii_amount_and_date_are_accepted(demo_app, client, headers_of):
    response = client.post(f"/api/v1/funds/{YUTAI}/receipts",
                           json={"amount": "100.00", "payer_name": "韩进", "source": "donation", "value_on": "2026-01-05"},
                           headers=headers_of("finance", **{"Idempotency-Key": f"ok-{next(_keys)}"}))
    assert response.status_code == 201, response.get_json()
    assert {posting["amount"] for posting in response.get_json()["postings"]} == {"100.00"}


# --- a chunked body over the size limit -----------------------------------------------------------

@pytest.fixture
def served(demo_app):
    """The app served by a real HTTP server (Werkzeug's, which decodes Transfer-Encoding: chunked
    as gunicorn does) on 127.0.0.1 in a thread; yields the port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, demo_app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=30)
    server.server_close()


def _send_chunked(port: int, headers: dict, chunks) -> tuple[int, dict]:
    """PATCH /api/v1/me with the body sent as HTTP/1.1 chunks (no Content-Length); the answer's
    status and JSON. The server may answer before it has read every chunk: sending then stops."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("PATCH", "/api/v1/me")
        for name, value in {**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for chunk in chunks:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end of the body: the answer is waiting
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.fixture
def served_by_gunicorn(demo_app):
    """The app on the same database served by gunicorn (production settings, one worker), as it
    runs in production; yields the port once /healthz answers."""
    import os
    import socket
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from tests.support import wait_until

    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed in this environment")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, LEDGER_ENV="production", SECRET_KEY="k" * 16 + "9f3e2d1c0b4a5968",
               DATABASE_URL=demo_app.config["SQLALCHEMY_DATABASE_URI"])
    process = subprocess.Popen([str(gunicorn), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                               cwd=Path(__file__).resolve().parent.parent, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def healthy():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                return answer.status == 200
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=60, interval=0.1, message="gunicorn to answer /healthz")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


@pytest.mark.parametrize("server", ["served", "served_by_gunicorn"])
def test_a_chunked_body_over_the_limit_is_413_and_a_small_one_is_read(demo_app, request, headers_of, server):
    served = request.getfixturevalue(server)
    limit = demo_app.config["MAX_CONTENT_LENGTH"]
    assert limit == 2 * 1024 * 1024
    headers = headers_of("finance")
    # Valid JSON all the way, 2 MiB + 64 KiB long: cut at the limit it would be a broken body (400)
    # or, cut after a whole name, a renamed user; read whole, it is too large.
    filler = b" " * (64 * 1024)
    big = [b'{"display_name": "\xe5\xbc\xa0\xe4\xb8\x89"'] + [filler] * ((limit // len(filler)) + 1) + [b"}"]
    assert sum(map(len, big)) > limit
    status, body = _send_chunked(served, headers, big)
    assert status == 413, body
    assert body["error"]["code"] == "payload_too_large" and str(limit) in body["error"]["message"]
    client = demo_app.test_client()
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] != "张三"

    small = [b'{"display_name": ', '"张三"'.encode(), b"}"]
    status, body = _send_chunked(served, headers, small)
    assert status == 200, body
    assert body["display_name"] == "张三"
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "张三"


@pytest.mark.parametrize("page", ["١", "２", "१", "1\u0660"])
def test_a_query_number_in_other_digits_is_422_naming_it(client, headers_of, page):
    """Python's int() reads digits of every script; the API reads ASCII digits only."""
    response = client.get(f"/api/v1/funds/{YUTAI}/entries", query_string={"page": page}, headers=headers_of("finance"))
    error = _error(response, 422, "validation_error")
    assert "0-9" in error["fields"]["page"][0]


#: Valid values of the parameters a report requires, so that a test's bad one is the only problem.
REPORT_QUERY = {"fund": YUTAI, "from": "2026-01-01", "to": "2026-01-31"}


def test_every_query_parameter_refuses_control_characters_naming_it(client, headers_of):
    """Query strings are input too: a NUL or ESC in any documented parameter is refused naming it
    (400 from the reports, which read their own parameters; 422 elsewhere), never a server error."""
    document = client.get("/api/v1/openapi.json").get_json()
    path_values = {**PATH_VALUES, "fmt": "csv", "job_id": "0" * 32}
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                continue
            url = path
            for name, value in path_values.items():
                url = url.replace("{" + name + "}", value)
            base = REPORT_QUERY if "/reports/" in path and "/reports/jobs/" not in path and "log" not in path else {}
            for parameter in operation.get("parameters", []):
                parameter = _resolve(document, parameter)
                if parameter.get("in") != "query":
                    continue
                for bad in ("20\x0026", "\x1b[31m"):
                    response = client.get(url, query_string={**base, parameter["name"]: bad},
                                          headers=headers_of(READER.get(path, "auditor")))
                    assert response.status_code in (400, 422), (path, parameter["name"], response.status_code)
                    error = response.get_json()["error"]
                    assert parameter["name"] in error["fields"], (path, parameter["name"], error)
                    assert "\x00" not in response.get_data(as_text=True) and "\x1b" not in response.get_data(as_text=True)
                    checked += 1
    assert checked >= 60

"""Security headers on every response and the rate limits of sign-in and the API (`ledger.security`)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger import create_app
from ledger.security import CONTENT_SECURITY_POLICY

PASSWORD = "correct horse battery"
TEMPLATES = Path(__file__).resolve().parents[1] / "ledger" / "templates"
#: Templates rendered into PDFs by WeasyPrint, never served to a browser.
PDF_TEMPLATES = {"_pdf_base.html", "certificate_pdf.html", "statement_pdf.html"}


def _scripts_that_would_be_blocked(html: str) -> list[str]:
    """<script> elements the policy refuses: inline code (JSON data blocks are not run), and style= attributes."""
    blocked = []
    for attributes in re.findall(r"<script\b([^>]*)>", html):
        if "src=" not in attributes and 'type="application/json"' not in attributes:
            blocked.append(f"<script{attributes}>")
    blocked += re.findall(r"<[^>]+\sstyle=[^>]*>", html)
    blocked += re.findall(r"<[^>]+\son[a-z]+=[^>]*>", html)  # onclick= and the like
    return blocked


def test_every_kind_of_page_and_api_answer_carries_the_one_content_security_policy(demo_app, demo_user_client,
                                                                                  demo_token_for):
    finance = demo_user_client("finance")
    anonymous = demo_app.test_client()
    responses = {
        "login page": anonymous.get("/login"),
        "start page": finance.get("/"),
        "receipt form": finance.get("/funds/370800/receipt"),
        "fund tree": finance.get("/funds/"),
        "not found page": finance.get("/funds/999999"),
        "API answer": anonymous.get("/api/v1/me", headers=demo_token_for("finance")),
        "API refusal": anonymous.get("/api/v1/me"),
        "static file": anonymous.get("/static/forms.js"),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 401, 404), name
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, name
        assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        if response.mimetype == "text/html":
            assert _scripts_that_would_be_blocked(response.get_data(as_text=True)) == [], name
    form = responses["receipt form"].get_data(as_text=True)
    assert 'src="/static/forms.js"' in form  # the double-submit guard still runs, from a file


def test_no_page_template_carries_an_inline_script_or_style_attribute():
    """The policy would silently switch these off in the browser; the PDF templates are not served."""
    offenders = {}
    for path in TEMPLATES.rglob("*.html"):
        if path.name in PDF_TEMPLATES:
            continue
        source = re.sub(r"\{\{.*?\}\}", "x", path.read_text(encoding="utf-8"))
        blocked = _scripts_that_would_be_blocked(source)
        if blocked:
            offenders[str(path.relative_to(TEMPLATES))] = blocked
    assert offenders == {}


def test_production_sends_strict_transport_security_and_development_does_not(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    production = create_app("production").test_client().get("/login", base_url="https://ledger.example")
    assert production.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert production.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    development = create_app("development").test_client().get("/login")
    assert "Strict-Transport-Security" not in development.headers


# --- rate limits -------------------------------------------------------------------------------------

def _sign_in(client, username, password="wrong password!!", address="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.app_config(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute")
def test_sign_in_is_limited_per_address_with_retry_after(app, client, make_user):
    username = make_user("finance")
    for attempt in range(3):
        assert _sign_in(client, f"somebody{attempt}").status_code == 401
    refused = _sign_in(client, username, PASSWORD)  # even the right password waits now
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "尝试次数过多" in page and refused.mimetype == "text/html"
    assert client.get("/").status_code == 302  # not signed in
    # another address is not held back, and signing in from it works
    assert _sign_in(client, username, PASSWORD, address="10.0.0.2").status_code == 302


@pytest.mark.app_config(RATELIMIT_LOGIN_PER_USERNAME="2 per minute")
def test_sign_in_is_limited_per_username_from_any_address_whether_or_not_it_exists(app, client, make_user):
    username = make_user("finance")
    for name in (username, "nobody-at-all"):
        assert _sign_in(client, name, address="10.0.1.1").status_code == 401
        assert _sign_in(client, name, address="10.0.1.2").status_code == 401
        refused = _sign_in(client, name, address="10.0.1.3")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert _sign_in(client, "someone-else", address="10.0.1.3").status_code == 401


@pytest.mark.app_config(RATELIMIT_API_PER_USER="3 per minute")
def test_the_api_is_limited_per_user_with_a_json_error_and_retry_after(app, client, make_user, token_for):
    first, second = make_user("finance"), make_user("auditor")
    headers, other_token = token_for(first), token_for(first)
    for _ in range(2):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=other_token).status_code == 200  # same user, other token
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and error["retry_after_seconds"] == int(refused.headers["Retry-After"])
    assert 1 <= error["retry_after_seconds"] <= 60
    assert client.get("/api/v1/me", headers=token_for(second)).status_code == 200  # another user goes on


@pytest.mark.app_config(RATELIMIT_API_PER_ADDRESS="3 per minute")
def test_the_api_is_limited_per_address_across_users_and_without_a_token(app, client, make_user, token_for):
    users = [make_user("finance") for _ in range(2)]
    addressed = {"REMOTE_ADDR": "10.0.2.1"}
    assert client.get("/api/v1/me", headers=token_for(users[0]), environ_base=addressed).status_code == 200
    assert client.get("/api/v1/me", headers=token_for(users[1]), environ_base=addressed).status_code == 200
    assert client.get("/api/v1/me", environ_base=addressed).status_code == 401
    refused = client.get("/api/v1/me", headers=token_for(users[1]), environ_base=addressed)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    elsewhere = client.get("/api/v1/me", headers=token_for(users[1]), environ_base={"REMOTE_ADDR": "10.0.2.2"})
    assert elsewhere.status_code == 200


def test_the_counters_are_kept_in_redis_when_the_environment_names_it(monkeypatch, tmp_path):
    from limits.storage import MemoryStorage, RedisStorage

    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    assert isinstance(create_app("development").extensions["ledger_limiter"].storage, RedisStorage)
    monkeypatch.delenv("LEDGER_RATELIMIT_STORAGE_URI")
    assert isinstance(create_app("development").extensions["ledger_limiter"].storage, MemoryStorage)

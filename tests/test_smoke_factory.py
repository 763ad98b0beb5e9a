import pytest

from ledger import create_app
from ledger.config import ConfigError


def test_health_answers_ok_with_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.sqlite3")
    for secret in ["", "changeme", "short-secret"]:
        monkeypatch.setenv("SECRET_KEY", secret)
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app("production")


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "济时救" in response.get_data(as_text=True) or "登录" in response.get_data(as_text=True)

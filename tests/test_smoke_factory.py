"""The app factory: which configuration is chosen, and what production refuses to start with."""
import os
import stat

import pytest

from ledger import create_app
from ledger.config import ConfigError


@pytest.fixture
def instance_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("LEDGER_ENV", "DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "instance"


def test_health_answers_ok_with_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(instance_dir):
    app = create_app({"LEDGER_CONFIG_NAME": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_dir}/missing/dir/ledger.sqlite3"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_without_a_choice_the_development_config_uses_sqlite_in_the_instance_folder(instance_dir):
    app = create_app()
    assert app.config["LEDGER_CONFIG_NAME"] == "development"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance_dir}/ledger.sqlite3"
    secret_file = instance_dir / "secret_key"
    assert app.config["SECRET_KEY"] == secret_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    # The same checkout keeps the same key, so sessions survive a restart.
    assert create_app("development").config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_ledger_env_picks_the_config(instance_dir, monkeypatch):
    monkeypatch.setenv("LEDGER_ENV", "testing")
    app = create_app()
    assert app.config["LEDGER_CONFIG_NAME"] == "testing"
    assert app.config["TESTING"] is True


def test_an_unknown_config_name_is_refused(instance_dir):
    with pytest.raises(ConfigError, match="unknown LEDGER_ENV 'staging'"):
        create_app("staging")


def test_production_refuses_missing_default_or_short_secret(instance_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://ledger@db/ledger")
    for secret in [None, "", "changeme", "dev", "short-secret", "x" * 31]:
        if secret is None:
            monkeypatch.delenv("SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("SECRET_KEY", secret)
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app("production")


def test_production_refuses_a_missing_database_url(instance_dir, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a" * 64)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("production")


def test_production_uses_the_environment_and_secure_cookies(instance_dir, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgres://ledger@db.internal/ledger")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ledger@db.internal/ledger"
    assert app.config["SECRET_KEY"] == "k" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not (instance_dir / "secret_key").exists()


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert "Log in" not in page


def test_login_page_speaks_english_on_request(client):
    by_parameter = client.get("/login?lang=en").get_data(as_text=True)
    by_browser = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    for page in (by_parameter, by_browser):
        assert '<html lang="en">' in page
        assert "Log in" in page and "Username" in page
        assert "用户名" not in page

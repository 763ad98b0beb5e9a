"""Configuration classes.

Nothing here reads the environment at import time: each class exposes
`load()` that returns a plain dict, evaluated when the app is created.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

#: Values that must never be used as a production secret key.
KNOWN_WEAK_SECRETS = frozenset({"", "dev", "changeme", "change-me", "secret", "development-only-secret"})


#: 500,000.00 yuan: the largest receipt recorded without a confirmation (`LARGE_RECEIPT_CONFIRM_FEN`).
LARGE_RECEIPT_CONFIRM_FEN_DEFAULT = 50_000_000


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


class BaseConfig:
    NAME = "base"

    @classmethod
    def load(cls, instance_path: str) -> dict:
        return {
            "LEDGER_CONFIG_NAME": cls.NAME,
            "SQLALCHEMY_TRACK_MODIFICATIONS": False,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            # Request bodies larger than this are refused with 413 before anything is parsed.
            "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
            "WTF_CSRF_TIME_LIMIT": 8 * 3600,
            "BABEL_DEFAULT_LOCALE": "zh_CN",
            "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
            "LEDGER_LANGUAGES": ["zh_CN", "en"],
            "LEDGER_TIMEZONE": "Asia/Shanghai",
            # Failed logins: after LOCKOUT_THRESHOLD failures in a row the account is locked
            # for LOCKOUT_BASE_SECONDS, doubling with every further failure (capped).
            "LOGIN_LOCKOUT_THRESHOLD": 5,
            "LOGIN_LOCKOUT_BASE_SECONDS": 60,
            "LOGIN_LOCKOUT_MAX_SECONDS": 3600,
            "REPORTS_DIR": os.path.join(instance_path, "reports"),
            # Uploaded files waiting between a preview and their import, stored by SHA-256 (outside the web root).
            "UPLOADS_DIR": os.path.join(instance_path, "uploads"),
            # Documents attached to records (`ledger.documents`), one file per content, named by its SHA-256.
            "DOCUMENTS_DIR": os.environ.get("LEDGER_DOCUMENTS_DIR") or os.path.join(instance_path, "documents"),
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            # While the database cannot be reached, requests answer 503 with this Retry-After.
            "DATABASE_RETRY_AFTER_SECONDS": 5,
            # Rate limits (`ledger.security`), in the `limits` notation ("10 per minute").
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": os.environ.get("LEDGER_RATELIMIT_STORAGE_URI") or "memory://",
            "RATELIMIT_LOGIN_PER_ADDRESS": "30 per minute",
            "RATELIMIT_LOGIN_PER_USERNAME": "10 per minute",
            "RATELIMIT_API_PER_ADDRESS": "1200 per minute",
            "RATELIMIT_API_PER_USER": "600 per minute",
            # Strict-Transport-Security max-age; 0 sends none (development serves plain HTTP).
            "HSTS_SECONDS": 0,
            "REPORT_QUEUE": os.environ.get("LEDGER_REPORT_QUEUE", "thread"),
            # Business dates: an entry is dated from the books' opening date (YYYY-MM-DD) to today
            # (Asia/Shanghai) plus this many days (`ledger.journal.dates`). 0: an entry records
            # money that has moved; a promise of money to come is a hold, not a future-dated entry.
            "LEDGER_BOOKS_OPEN_ON": os.environ.get("LEDGER_BOOKS_OPEN_ON", "2026-01-01"),
            "LEDGER_VALUE_DATE_FUTURE_DAYS": os.environ.get("LEDGER_VALUE_DATE_FUTURE_DAYS", "0"),
            # A receipt above this many fen is recorded only once confirmed (the web form shows the
            # amount in figures and in capital words first; the API wants `confirm_large_amount`).
            "LARGE_RECEIPT_CONFIRM_FEN": LARGE_RECEIPT_CONFIRM_FEN_DEFAULT,
        }


def _instance_secret(instance_path: str) -> str:
    """A per-checkout random key kept in instance/ (never in the repository)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class DevelopmentConfig(BaseConfig):
    NAME = "development"

    @classmethod
    def load(cls, instance_path: str) -> dict:
        values = super().load(instance_path)
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        values.update(
            SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
            SQLALCHEMY_DATABASE_URI=normalise_database_url(
                os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "ledger.sqlite3")
            ),
        )
        return values


class ProductionConfig(BaseConfig):
    NAME = "production"

    @classmethod
    def load(cls, instance_path: str) -> dict:
        values = super().load(instance_path)
        secret = os.environ.get("SECRET_KEY", "")
        if secret.strip().lower() in KNOWN_WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY is missing, a known default or shorter than 32 characters; "
                "set it to a long random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise ConfigError("DATABASE_URL is not set; e.g. postgresql+psycopg://ledger@db/ledger")
        values.update(
            SECRET_KEY=secret,
            SQLALCHEMY_DATABASE_URI=normalise_database_url(url),
            SESSION_COOKIE_SECURE=True,
            REMEMBER_COOKIE_SECURE=True,
            HSTS_SECONDS=365 * 24 * 3600,
        )
        return values


class TestingConfig(BaseConfig):
    NAME = "testing"

    @classmethod
    def load(cls, instance_path: str) -> dict:
        values = super().load(instance_path)
        values.update(
            TESTING=True,
            SECRET_KEY="testing-" + secrets.token_hex(16),
            SQLALCHEMY_DATABASE_URI=normalise_database_url(os.environ.get("LEDGER_TEST_DATABASE_URL", "sqlite://")),
            LOGIN_LOCKOUT_BASE_SECONDS=60,
            REPORT_QUEUE="thread",
            # Each test app its own store, created when the first document is written.
            DOCUMENTS_DIR=os.path.join(tempfile.gettempdir(), "ledger-test-documents-" + secrets.token_hex(8)),
            # High enough for any test's own requests; the rate-limit tests set their own.
            RATELIMIT_LOGIN_PER_ADDRESS="10000 per minute",
            RATELIMIT_LOGIN_PER_USERNAME="10000 per minute",
            RATELIMIT_API_PER_ADDRESS="100000 per minute",
            RATELIMIT_API_PER_USER="100000 per minute",
        )
        return values


CONFIGS = {c.NAME: c for c in (DevelopmentConfig, ProductionConfig, TestingConfig)}


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` / `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def resolve(config, instance_path: str) -> dict:
    """Turn create_app's `config` argument into a dict of settings.

    `config` may be None (use $LEDGER_ENV, default development), a name, a
    config class, or a dict of overrides applied on top of the testing config.
    """
    if config is None:
        config = os.environ.get("LEDGER_ENV", "development")
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ConfigError(f"unknown LEDGER_ENV {config!r}; use one of {', '.join(CONFIGS)}")
        config = CONFIGS[config]
    if isinstance(config, dict):
        base = CONFIGS[config.get("LEDGER_CONFIG_NAME", "testing")].load(instance_path)
        base.update(config)
        return base
    return config.load(instance_path)

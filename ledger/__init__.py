"""济时救 charity fund and care-service ledger: the Flask application factory.

`create_app(config=None)` builds the app from a config name, class or dict (see
`ledger.config`). The schema is never created here: `flask db upgrade` makes it.
"""
from __future__ import annotations

import os

from flask import Flask, g, request, session
from flask_login import current_user

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate

#: Language codes the interface offers, first is the default. The Chinese catalog lives in
#: translations/zh_Hans_CN because Babel spells zh_CN that way when it looks for catalogs.
LANGUAGES = ("zh_CN", "en")


def create_app(config=None) -> Flask:
    """Build the app. `config`: None ($LEDGER_ENV), a name, a config class, or a dict."""
    app = Flask(__name__, instance_path=os.environ.get("LEDGER_INSTANCE_PATH") or None,
                instance_relative_config=True)
    app.config.from_mapping(config_module.resolve(config, app.instance_path))
    from .requests import BodyLimit, PathIdConverter

    app.url_map.converters["int"] = PathIdConverter  # before any route: ids in ASCII digits, bounded
    app.wsgi_app = BodyLimit(app.wsgi_app, app)  # a chunked body is held to MAX_CONTENT_LENGTH too
    app.json.ensure_ascii = False  # Chinese names travel as UTF-8, readable in any client
    _configure_value_dates(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["LEDGER_TIMEZONE"])
    from flask_babel import gettext

    from .errors import set_translator

    set_translator(gettext)  # refusals (ledger.errors.Message) render in the reader's language when shown
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from . import models  # noqa: F401  (registers every table on the metadata)
    from .db_events import install as install_db_events

    install_db_events(app, db)

    from .error_handlers import register_error_handlers

    register_error_handlers(app)

    from .api import create_api_blueprint
    from .requests import commit_request
    from .web.views import register as register_web

    register_web(app)
    features = _features()
    for feature in features:
        feature.register(app)
    from . import documents

    documents.register(app)  # the download route every feature's documents share
    api_blueprints = [feature.api_blueprint() for feature in features]
    api = create_api_blueprint(api_blueprints)
    app.register_blueprint(api)
    for blueprint in (api, *api_blueprints):
        csrf.exempt(blueprint)  # the API authenticates with bearer tokens, never cookies
    app.after_request(commit_request)  # the request boundary: one commit (see ledger.requests)
    from .security import init_rate_limits, security_headers

    init_rate_limits(app, api)

    from .cli import register_cli

    register_cli(app)
    from .web.filters import register_filters
    from .web.navigation import register_template_helpers

    register_filters(app)
    register_template_helpers(app)
    app.after_request(security_headers)
    return app


def _configure_value_dates(app: Flask) -> None:
    """Hand the journal its range of business dates (it reads no Flask config itself)."""
    from .journal import dates

    try:
        dates.configure(books_open_on=app.config["LEDGER_BOOKS_OPEN_ON"],
                        future_days=app.config["LEDGER_VALUE_DATE_FUTURE_DAYS"])
    except ValueError as error:
        raise config_module.ConfigError(str(error)) from None


def _features():
    """The feature packages, in the order their pages appear. Each has `register(app)` (its web
    blueprints and start-page sections) and `api_blueprint()` (its blueprint under /api/v1).
    Listed explicitly: a feature that fails to import fails the app, never goes missing."""
    from . import aid, auth, funds, reports

    return (auth, funds, aid, reports)


#: The API's language when the request names none: English, stable for programs.
API_DEFAULT_LANGUAGE = "en"


API_DOCS_PATH = "/api/v1/docs"  # the HTML page of the API document (ledger/api.py)


def select_locale():
    """The interface language: this request's ?lang=, else the choice kept in the session,
    else the user's saved preference, else the browser's Accept-Language, else Chinese.

    The API (/api/...) follows its own rule, the same for every client: ?lang=, else
    Accept-Language, else English (`api_language`). Its documentation page is a page people
    read in the browser, so it speaks the interface language like every other page."""
    if request.path.startswith("/api/") and request.path != API_DOCS_PATH:
        return api_language()
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = getattr(g, "api_user", None) or (current_user if current_user and current_user.is_authenticated else None)
    if user is not None and getattr(user, "locale", None) in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])



def api_language() -> str:
    """The API's language: ?lang=zh_CN|en, else the best of Accept-Language among the two, else English.
    A token's user's saved web preference does not change what a program reads."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=API_DEFAULT_LANGUAGE)

"""Response headers every page carries, and the rate limits of sign-in and the API.

Headers (`security_headers`, after every request):

* `Content-Security-Policy: CONTENT_SECURITY_POLICY` on every response. The pages run only the
  app's own script files (`ledger/static/*.js`); data for them travels in JSON blocks
  (`<script type="application/json">`, which the browser never executes) or `data-` attributes,
  so no inline script, no `style=` attribute and nothing from another origin is needed;
* `Strict-Transport-Security` where `HSTS_SECONDS` is set (the production config sets it:
  the site is served over HTTPS only);
* `nosniff`, `DENY` framing and a same-origin referrer.

Rate limits (Flask-Limiter, one `Limiter` per app, kept in `app.extensions["ledger_limiter"]`):

* sign-in (`POST /login`) per address (`RATELIMIT_LOGIN_PER_ADDRESS`) and per username typed
  (`RATELIMIT_LOGIN_PER_USERNAME`), whether or not that username exists;
* every API request per address (`RATELIMIT_API_PER_ADDRESS`) and per user of the bearer token
  (`RATELIMIT_API_PER_USER`; a request without a valid token counts against its address).

The counters live in `RATELIMIT_STORAGE_URI` (memory by default; Redis in production, from
`LEDGER_RATELIMIT_STORAGE_URI`, so that every worker process shares them). A refused request
answers 429 with `Retry-After` (`ledger.error_handlers`) and has done nothing.
"""
from __future__ import annotations

import hashlib
import time

from flask import current_app, request
from flask_limiter import Limiter

#: The one policy of every page: the app's own scripts, styles, images and forms; nothing inline
#: (JSON data blocks are not scripts), no plugins, no framing, no <base> rewriting.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    hsts_seconds = current_app.config.get("HSTS_SECONDS")
    if hsts_seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts_seconds)}; includeSubDomains")
    return response


# --- rate limits -------------------------------------------------------------------------------------

def client_address() -> str:
    return request.remote_addr or "unknown"


def login_username_key() -> str:
    """The username typed on the sign-in form (compared as the login compares it), hashed so that
    the counters' store never holds what a person typed."""
    username = (request.form.get("username") or "").strip()
    return "login-user:" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def api_user_key() -> str:
    """The user of the request's bearer token; a request without a valid token is counted by address."""
    from .api import bearer_token_row

    row = bearer_token_row()
    return f"api-user:{row.user_id}" if row is not None else f"api-anonymous:{client_address()}"


def _not_a_sign_in() -> bool:
    return request.method != "POST"


def init_rate_limits(app, api_blueprint) -> Limiter:
    """A limiter for this app: sign-in and the API (`api_blueprint`, the /api/v1 parent) limited
    per address and per user, with the limits of the app's config (read per request, so a test
    may set them)."""
    config = app.config
    limiter = Limiter(client_address, app=app, storage_uri=config["RATELIMIT_STORAGE_URI"],
                      strategy=config.get("RATELIMIT_STRATEGY", "fixed-window"), headers_enabled=False,
                      key_prefix="ledger")
    login_view = app.view_functions["auth.login"]
    login_view = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_PER_ADDRESS"], key_func=client_address,
                               exempt_when=_not_a_sign_in, scope="login-address")(login_view)
    login_view = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_PER_USERNAME"],
                               key_func=login_username_key, exempt_when=_not_a_sign_in,
                               scope="login-username")(login_view)
    app.view_functions["auth.login"] = login_view  # this app's view, limited (the blueprint's stays as it is)
    limiter.shared_limit(lambda: current_app.config["RATELIMIT_API_PER_ADDRESS"], scope="api-address",
                         key_func=client_address)(api_blueprint)
    limiter.shared_limit(lambda: current_app.config["RATELIMIT_API_PER_USER"], scope="api-user",
                         key_func=api_user_key)(api_blueprint)
    app.extensions["ledger_limiter"] = limiter
    return limiter


def counter_storage():
    """The store of the rate limits' counters (memory or Redis), also where failed sign-ins under
    unknown usernames are counted (`ledger.auth.services.UnknownUsernameLockout`). With rate
    limits switched off (`RATELIMIT_ENABLED = False`) a memory store of this app's own."""
    extensions = current_app.extensions
    limiter = extensions.get("ledger_limiter")
    if limiter is not None and limiter.enabled:
        return limiter.storage
    if "ledger_counter_storage" not in extensions:
        from limits.storage import MemoryStorage

        extensions["ledger_counter_storage"] = MemoryStorage()
    return extensions["ledger_counter_storage"]


def retry_after_seconds() -> int:
    """Seconds until the breached limit of this request lets requests through again (at least 1)."""
    limiter = current_app.extensions.get("ledger_limiter")
    current = getattr(limiter, "current_limit", None) if limiter is not None else None
    if current is None:
        return 1
    return max(1, int(current.reset_at - time.time()))

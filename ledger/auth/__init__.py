"""Users, roles, organisations, sign-in, passwords and API tokens, and their administration.

`register(app)` attaches the sign-in pages, the account, directory and administration pages,
the hook that keeps a user with a one-time password on the change-password page, and
their start-page sections; `api_blueprint()` gives the factory the API routes (who am I,
organisations, tokens) to nest under /api/v1.
"""
from flask_babel import lazy_gettext as _l


def register(app):
    from ..web.navigation import add_section
    from .directory_views import directory_bp
    from .views import auth_bp, require_password_change

    app.register_blueprint(auth_bp)
    app.register_blueprint(directory_bp)
    app.before_request(require_password_change)
    add_section("directory.admin_users", _l("Users and organisations"),
                _l("Every user with role, organisation and state; every organisation with its region."),
                ["admin"], order=80)
    add_section("directory.my_organisation", _l("My organisation"),
                _l("Your organisation, its region and your colleagues."),
                ["admin", "finance", "reviewer", "charity", "vendor", "auditor"], order=85, in_menu=False)
    add_section("auth.tokens", _l("API tokens"),
                _l("Tokens that let your programs use the API in your name; create and revoke them."),
                ["admin", "finance", "reviewer", "charity", "vendor", "auditor"], order=90, in_menu=False)


def api_blueprint():
    from .api import auth_api

    return auth_api

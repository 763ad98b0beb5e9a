"""The fund tree: receipts, allocations, disbursements, holds, reversals, period close."""


def register(app):
    """Attach the funds web pages and API routes.

    The API module adds its routes to `ledger.api.api_bp` when first imported; the app
    factory registers that blueprint after the features, so the routes are in place (and
    in /api/v1/openapi.json) before it is registered on any app.
    """
    from . import api  # noqa: F401  (adds the /api/v1 fund routes to api_bp)
    from .views import register as register_views

    register_views(app)

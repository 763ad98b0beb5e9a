"""The fund tree: receipts, allocations, disbursements, holds, reversals, period close."""


def register(app):
    """Attach the funds web pages and their start-page sections."""
    from .display import register_filters
    from .views import register as register_views

    register_views(app)
    register_filters(app)


def api_blueprint():
    """The /api/v1 fund routes (`api.funds.*`), nested under the API parent by the factory."""
    from .api import funds_api

    return funds_api

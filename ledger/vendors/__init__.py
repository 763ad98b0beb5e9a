"""Care-service procurement (政府购买服务): vendors and their workers, care budgets, contracts."""


def register(app):
    """Attach the vendor and contract web pages."""
    from .views import register as register_views

    register_views(app)


def api_blueprint():
    """The /api/v1/vendors and /api/v1/care routes (`api.vendors.*`), nested under the API parent."""
    from .api import vendors_api

    return vendors_api

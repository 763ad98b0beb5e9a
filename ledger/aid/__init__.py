"""Aid: the beneficiary registry (救助对象). Tier policies and applications come later."""


def register(app):
    """Attach the registry's web pages."""
    from .views import register as register_views

    register_views(app)


def api_blueprint():
    """The /api/v1/aid routes (`api.aid.*`), nested under the API parent by the factory."""
    from .api import aid_api

    return aid_api

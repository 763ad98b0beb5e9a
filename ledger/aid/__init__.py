"""Aid: the beneficiary registry (救助对象), tier policies (救助档次) and applications (救助申请)."""


def register(app):
    """Attach the registry's, the applications' and the policies' web pages."""
    from .application_views import register as register_application_views
    from .views import register as register_views

    register_views(app)
    register_application_views(app)


def api_blueprint():
    """The /api/v1/aid routes (`api.aid.*`), nested under the API parent by the factory."""
    from .api import aid_api

    return aid_api

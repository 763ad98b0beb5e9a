"""Care-service procurement (政府购买服务): vendors and their workers, care budgets, contracts, and the
supported persons under home care with their assignments to vendors."""


def register(app):
    """Attach the supported persons' web pages."""
    from .person_views import register as register_person_views

    register_person_views(app)
    from .visit_views import register as register_visit_views

    register_visit_views(app)


def api_blueprint():
    """The /api/v1/care/persons and /api/v1/care/visits routes (`api.care.*`), nested under the API parent by the factory."""
    from . import visit_api  # noqa: F401  (adds the /visits routes to the care API blueprint)
    from .person_api import care_persons_api

    return care_persons_api

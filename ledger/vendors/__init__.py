"""Care-service procurement (政府购买服务): vendors and their workers, care budgets, contracts, the
supported persons under home care with their assignments to vendors, and the care visit records."""


def register(app):
    """Attach the vendor, contract, supported persons' and care visits' web pages."""
    from .person_views import register as register_person_views
    from .views import register as register_views
    from .visit_views import register as register_visit_views

    register_views(app)
    register_person_views(app)
    register_visit_views(app)


def api_blueprint():
    """The /api/v1/vendors and /api/v1/care routes (`api.vendors.*`; the supported persons' and the care
    visits' `api.vendors.care.*`), nested under the API parent."""
    from . import person_api  # noqa: F401  (nests the supported persons' blueprint, once, when imported)
    from . import visit_api  # noqa: F401  (adds the /care/visits routes to that blueprint)
    from .api import vendors_api

    return vendors_api

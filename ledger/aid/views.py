"""The registry's web pages (placeholder while they are built)."""


def register(app):
    pass

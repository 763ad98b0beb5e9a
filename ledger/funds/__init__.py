"""The fund tree: receipts, allocations, disbursements, holds, reversals, period close."""


def register(app):
    """Attach the funds web pages and API routes."""

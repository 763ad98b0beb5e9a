"""Demo funds: filled in by the fund ledger (the tree and its opening receipts)."""


def seed_funds(session):
    return None

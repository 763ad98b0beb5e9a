"""One commit per request or command, at its boundary: services only flush.

The places allowed to commit, and why each is a boundary:
- ledger/requests.py: `api_write`, `form_write` (a write's unit of work) and `commit_request`
  (the after-request commit of everything else a request did);
- ledger/api.py: the bearer token's last use, committed before the request's own work;
- ledger/cli.py: `one_transaction`, the command boundary;
- ledger/journal/retry.py: `run_in_transaction` / `run_in_savepoint`, the retrying boundary helpers;
- ledger/reports/jobs.py: the background report runner, its own unit of work (progress is
  committed as it goes so the job page can show it).
"""
import re
from pathlib import Path

import ledger

ALLOWED = {"requests.py", "api.py", "cli.py", "journal/retry.py", "reports/jobs.py"}


def test_only_the_boundaries_commit():
    root = Path(ledger.__file__).parent
    found = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py")
        # Releasing a SAVEPOINT (`savepoint.commit()`) ends no transaction; only real commits count.
        if re.search(r"(?<!savepoint)\.commit\(\)", path.read_text(encoding="utf-8"))
    )
    assert set(found) <= ALLOWED, f"commits outside the boundaries: {sorted(set(found) - ALLOWED)}"

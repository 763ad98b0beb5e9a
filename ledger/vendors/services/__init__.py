"""The care-procurement operations, one module per subject: `vendors` (vendors, workers, the worker
import), `budgets` (the care budget funds), `contracts` (contracts, versions, commitments).
Every operation checks its actor at the door (`ledger.auth.access.require`) and reads through its
subject's scope clause; services flush, never commit."""

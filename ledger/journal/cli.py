"""`flask journal ...`: verify the hash chains, export for independent audit."""
from flask.cli import AppGroup

journal_cli = AppGroup("journal", help="Verify and export the journal.")

"""`flask journal ...`: verify the hash chains, export for independent audit.

    flask --app wsgi journal verify
    flask --app wsgi journal export --format beancount|csv [--until YYYY-MM-DD] [--output FILE]

`verify` exits with status 1 and names the entry when a chain is broken.
"""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

journal_cli = AppGroup("journal", help="Verify and export the journal.")


@journal_cli.command("verify")
def verify_command():
    """Recompute every fund's hash chain; report ok or the first entry changed, deleted or out of order."""
    from ..extensions import db
    from .chain import verify_journal

    result = verify_journal(db.session)
    db.session.rollback()
    if result.ok:
        click.echo(f"ok: {result.entry_count} entries in {result.chain_count} chains; digest {result.digest}")
        return
    click.echo(f"FAILED: {result.problem}", err=True)
    sys.exit(1)


@journal_cli.command("export")
@click.option("--format", "export_format", type=click.Choice(["beancount", "csv"]), default="beancount",
              show_default=True)
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="last value date to include (default: everything)")
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="file to write (default: standard output)")
def export_command(export_format, until, output):
    """Write the journal as beancount (with a balance assertion per account) or CSV."""
    from ..extensions import db
    from .export import export_beancount, export_csv

    until_on: date | None = until.date() if until else None
    writer = export_beancount if export_format == "beancount" else export_csv
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            count = writer(db.session, handle, until=until_on)
        click.echo(f"{count} entries written to {output}", err=True)
    else:
        writer(db.session, sys.stdout, until=until_on)
    db.session.rollback()

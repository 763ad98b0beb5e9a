"""`flask --app wsgi ...` commands: users, seed-demo, and the journal's verify and export.

    flask --app wsgi journal verify
    flask --app wsgi journal export --format beancount|csv [--until YYYY-MM-DD] [--output FILE]
    flask --app wsgi aid expire-approvals     (a scheduled job: approvals whose hold expired go back to review)

A command that writes is one unit of work (`@one_transaction`): it commits once when it
returns, or rolls back and reports a refusal as a click error; it prints what it did only
after the commit (it returns the lines, or a callable that reports), so nothing is
announced that was not saved.
"""
from __future__ import annotations

import functools
import os
import sys
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .auth.models import ApiToken, User
from .auth.services import create_user, disable_user, get_user, issue_token, one_time_password, revoke_tokens
from .aid.applications import expire_approvals
from .demo import seed
from .errors import LedgerError
from .extensions import db
from .journal.chain import verify_journal
from .journal.export import export_beancount, export_csv

users_cli = AppGroup("users", help="Manage users and their API tokens.")


def _refusal(error: LedgerError) -> click.ClickException:
    detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in (error.fields or {}).items())
    return click.ClickException(error.message + (f" ({detail})" if detail else ""))


def one_transaction(command):
    """The command boundary: run `command`, commit once, then print what it returned (a line,
    lines, or a callable that reports); any error rolls everything back."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            report = command(*args, **kwargs)
            db.session.commit()
        except LedgerError as error:
            db.session.rollback()
            raise _refusal(error) from None
        except BaseException:
            db.session.rollback()
            raise
        if callable(report):
            report()
        else:
            for line in [report] if isinstance(report, str) else (report or ()):
                click.echo(line)

    return wrapper


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, finance, reviewer, charity, vendor or auditor")
@click.option("--org", "org_code", required=True, help="organisation code, e.g. MZJ-370800")
@click.option("--password", help="at least 12 characters, not a common password, not containing the username; "
                                 "a random one is generated and printed if omitted")
@click.option("--name", "display_name", default="", help="display name")
@one_transaction
def create_user_command(username, role, org_code, password, display_name):
    """Create a user in an organisation with a role."""
    generated = password is None
    password = password or one_time_password()
    create_user(db.session, username, role, org_code, password, display_name)
    return [f"created user {username} ({role}, {org_code})"] + ([f"password: {password}"] if generated else [])


@users_cli.command("token")
@click.argument("username")
@click.option("--label", default="", help="what the token is for")
@one_transaction
def token_command(username, label):
    """Issue a new API token for USERNAME; it is printed once and never stored."""
    user = get_user(db.session, username)
    if not user.active:
        raise click.ClickException(f"user {username} is disabled")
    return issue_token(db.session, user, label)


@users_cli.command("revoke")
@click.argument("username")
@click.option("--prefix", help="revoke only the token starting with this prefix (as `users list` shows)")
@one_transaction
def revoke_command(username, prefix):
    """Revoke a user's API tokens."""
    count = revoke_tokens(db.session, get_user(db.session, username), prefix)
    return f"revoked {count} token(s) of {username}"


@users_cli.command("list")
def list_command():
    """List users with role, organisation, state and live tokens."""
    users = db.session.scalars(sa.select(User).order_by(User.username)).all()
    for user in users:
        tokens = db.session.scalars(sa.select(ApiToken.prefix).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username:<18} {user.role.value:<9} {user.organisation.code:<14} {state:<8} "
                   f"tokens: {', '.join(t + '…' for t in tokens) or '-'}")


@users_cli.command("disable")
@click.argument("username")
@one_transaction
def disable_command(username):
    """Disable a user: no more logins, all tokens revoked."""
    disable_user(db.session, username)
    return f"disabled {username}"


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has users")
@one_transaction
def seed_demo_command(if_empty):
    """Create the demo city, counties, villages, organisations, funds and users (idempotent)."""
    if if_empty and db.session.scalar(sa.select(sa.func.count(User.id))):
        return "database already has data; demo seed skipped"
    result = seed(db.session)

    def report():
        click.echo(f"regions created: {result.created_regions}, organisations created: "
                   f"{result.created_organisations}")
        if result.visit_file:
            name, data = result.visit_file
            path = Path(current_app.instance_path) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            click.echo(f"care visits recorded: {result.created_visits}; a visit file to upload as the vendor: "
                       f"instance/{name}")
        if result.credentials:
            lines = [f"{username:<16} {role:<9} {password}" for username, role, password in result.credentials]
            path = Path(current_app.instance_path) / "demo-logins.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("demo logins (username, role, password)\n" + "\n".join(lines) + "\n")
            os.chmod(path, 0o600)
            click.echo("demo logins (username, role, password), also kept in instance/demo-logins.txt:")
            for line in lines:
                click.echo("  " + line)

    return report


journal_cli = AppGroup("journal", help="Verify and export the journal.")


@journal_cli.command("verify")
def verify_command():
    """Recompute every fund's hash chain; report ok or the first entry changed, deleted or out of order.

    Exits with status 1 and names the entry when a chain is broken."""
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
    until_on: date | None = until.date() if until else None
    writer = export_beancount if export_format == "beancount" else export_csv
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            count = writer(db.session, handle, until=until_on)
        click.echo(f"{count} entries written to {output}", err=True)
    else:
        writer(db.session, sys.stdout, until=until_on)
    db.session.rollback()


aid_cli = AppGroup("aid", help="Tiered-aid applications.")


@aid_cli.command("expire-approvals")
@one_transaction
def expire_approvals_command():
    """Send every approved application whose hold has expired back under review for a new approval."""
    sent_back = expire_approvals(db.session, None)
    return [f"{application.number}: hold expired, back under review" for application in sent_back] or \
        ["no approval has expired"]


def register_cli(app):
    app.cli.add_command(aid_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(journal_cli)

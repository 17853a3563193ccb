"""`flask accounts ...`: maintenance of organiser accounts from the command line."""

import click
from flask import current_app
from flask.cli import AppGroup

from campaign.accounts.operations import purge_expired
from campaign.accounts.sessions import Lifetimes, purge_sessions
from campaign.extensions import db

accounts_cli = AppGroup("accounts", help="Organiser accounts.")


@accounts_cli.command("purge")
def purge_command() -> None:
    """Delete accounts never confirmed, address changes whose undo link expired (they name
    a former address), and login sessions past their lifetime; run daily, e.g. from cron."""
    accounts, changes = purge_expired(current_app.config)
    sessions = purge_sessions(
        Lifetimes(
            idle=current_app.config["PERMANENT_SESSION_LIFETIME"],
            absolute=current_app.config["SESSION_ABSOLUTE_LIFETIME"],
        )
    )
    db.session.commit()
    click.echo(
        f"Purged {accounts} unconfirmed account(s), {changes} expired address change(s) "
        f"and {sessions} ended login session(s)."
    )

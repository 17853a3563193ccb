"""`flask accounts ...`: maintenance of organiser accounts from the command line."""

import click
from flask import current_app
from flask.cli import AppGroup

from campaign.accounts.operations import purge_expired
from campaign.extensions import db

accounts_cli = AppGroup("accounts", help="Organiser accounts.")


@accounts_cli.command("purge")
def purge_command() -> None:
    """Delete accounts never confirmed, and address changes whose undo link expired (they name
    a former address); run daily, e.g. from cron."""
    accounts, changes = purge_expired(current_app.config)
    db.session.commit()
    click.echo(f"Purged {accounts} unconfirmed account(s) and {changes} expired address change(s).")

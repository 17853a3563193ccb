"""Security notices: a mail to the account's own address whenever its password or its two-step
login changes, or a recovery code lets someone in, so that its holder learns of a change she
did not make while she can still act on it."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campaign import tasks
from campaign.accounts.models import User
from campaign.extensions import db
from campaign.mail_queue import queue_mail
from campaign.urls import public_url_for

# What happened, as the notice's first sentence says it; the key names the mail's purpose.
NOTICES = {
    "password_changed": _l("The password of your Campaign account (%(name)s) was changed."),
    "password_reset": _l(
        "A new password was chosen for your Campaign account (%(name)s) with a link mailed to "
        "this address."
    ),
    "two_factor_on": _l("Two-step login was turned on for your Campaign account (%(name)s)."),
    "two_factor_off": _l(
        "Two-step login was turned off for your Campaign account (%(name)s): logging in now "
        "asks for the password only."
    ),
    "recovery_codes": _l(
        "New recovery codes were made for your Campaign account (%(name)s); the earlier ones "
        "no longer work."
    ),
    "recovery_code_used": _l(
        "Someone logged in to your Campaign account (%(name)s) with a recovery code instead "
        "of the code from the app."
    ),
}


def notify(user: User, notice: str) -> None:
    """Mail the account's holder that this happened (after the change is committed)."""
    if notice not in NOTICES:
        raise ValueError(notice)
    tasks.enqueue("accounts.security_notice", user.id, notice)


# Tried again should the database be away; the mail server's failures are mail_queue's to retry.
@tasks.job("accounts.security_notice", retries=3, retry_delay=60)
def send_security_notice(user_id: int, notice: str) -> None:
    """Write the notice to the account's current address, in its holder's language."""
    user = db.session.get(User, user_id)
    if user is None or notice not in NOTICES:
        return
    with force_locale(user.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = "\n\n".join(
            (
                str(NOTICES[notice]) % {"name": user.name},
                _("If it was you, there is nothing to do."),
                _(
                    "If it was not, someone who knows your password may be in your account: "
                    "ask for a new password on this page (choosing it logs every browser out) "
                    "and tell the other owners of your appeals.\n%(link)s",
                    link=public_url_for("accounts.forgot_password"),
                ),
            )
        )
        queue_mail(user.email, _("Security notice: your Campaign account"), body,
                   purpose=f"accounts.{notice}")  # fmt: skip

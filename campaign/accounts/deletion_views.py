"""The page where a member deletes her own account, given its password."""

from flask import current_app, flash, g, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campaign.accounts.authentication import end_current_session
from campaign.accounts.blueprint import bp
from campaign.accounts.deletion import appeals_owned_alone, delete_account
from campaign.accounts.forms import DeleteAccountForm
from campaign.accounts.memberships import LastOwner
from campaign.accounts.operations import WrongPassword
from campaign.accounts.throttling import counts_wrong_passwords
from campaign.extensions import db
from campaign.mail_queue import queue_mail
from campaign.security_log import log_security_event
from campaign.urls import public_url_for


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@counts_wrong_passwords
def delete_account_page() -> Response | str:
    """Say what deleting the account does, then delete it given the password; refused while
    she is the only owner of an appeal (the page names them). Wrong passwords count with the
    account page's."""
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    if form.validate_on_submit() and not appeals_owned_alone(user):
        user_id, address, name, language = user.id, user.email, user.name, user.language
        try:
            delete_account(user, form.current.data)
        except WrongPassword:
            db.session.rollback()
            g.password_refused = True
            form.current.errors.append(_("This is not your current password."))
        except LastOwner:  # another owner left meanwhile
            db.session.rollback()
        else:
            _queue_farewell(address, name, language)  # commits the deletion with the mail
            log_security_event("account.deleted", user=user_id)
            end_current_session()
            flash(_("Your account is deleted."), "success")
            return redirect(url_for("public.home"))
    return render_template(
        "accounts/delete.html", form=form, owned_alone=appeals_owned_alone(user), user=user
    )


def _queue_farewell(address: str, name: str, language: str | None) -> None:
    """Store the mail that tells the address its account is gone, with the deletion."""
    with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = "\n\n".join(
            (
                _("Your Campaign account (%(name)s) is deleted, as asked on its page.", name=name),
                _(
                    "Your memberships of appeals have ended. What you did on them stays in "
                    "their logs as done by a deleted account, without your name or address."
                ),
                _(
                    "If you did not ask for this, someone who knew your password did: tell the "
                    "other organisers of your appeals. You can sign up again with this "
                    "address.\n%(link)s",
                    link=public_url_for("accounts.signup"),
                ),
            )
        )
        queue_mail(address, _("Your Campaign account is deleted"), body, purpose="accounts.deleted")

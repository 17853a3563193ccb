"""The account's settings: change one's name, password and address (through a mailed link
confirmed with the password), and bring an account back to the address it left."""

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from campaign import tasks
from campaign.accounts.authentication import log_in, start_session
from campaign.accounts.blueprint import bp
from campaign.accounts.forms import (
    ChangePasswordForm,
    EmailChangeConfirmForm,
    EmailChangeForm,
    NameForm,
    UndoEmailChangeForm,
)
from campaign.accounts.mailed_links import EMAIL, UNDO, LinkInvalid, user_for_link
from campaign.accounts.notices import notify
from campaign.accounts.operations import (
    EmailTaken,
    UndoInvalid,
    WrongPassword,
    ask_email_change,
    change_password,
    check_password,
    find_address_change,
    move_to_pending_email,
    purge_address_changes,
    rename_user,
    undo_address_change,
)
from campaign.accounts.session_views import account_sections
from campaign.accounts.throttling import counts_wrong_passwords, link_password_limited
from campaign.accounts.views import link_invalid
from campaign.extensions import db, limiter


def _refuse_current_password(form: Any) -> None:
    # Nothing of the attempt stays, it counts against ACCOUNT_CHANGE_LIMIT, and the form says so.
    db.session.rollback()
    g.password_refused = True
    form.current.errors.append(_("This is not your current password."))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@counts_wrong_passwords
@limiter.limit(
    lambda: current_app.config["EMAIL_CHANGE_LIMIT"],
    key_func=lambda: f"email-change:{current_user.get_id()}",
    methods=["POST"],
    exempt_when=lambda: not request.form.get("email-submit"),
    deduct_when=lambda _response: bool(g.get("email_link_sent")),
)
def settings() -> Response | str:
    """The account: the name other members see, the address (through a mailed link), and the
    password.

    Wrong current passwords (for a new password or a new address) are counted per account: a
    session left open on a shared computer does not let anyone try passwords at leisure.
    """
    user = current_user._get_current_object()
    name_form = NameForm(prefix="profile", obj=user)
    password_form = ChangePasswordForm(prefix="password")
    email_form = EmailChangeForm(prefix="email", current_email=user.email)
    if email_form.submit.data and email_form.validate_on_submit():
        try:
            ask_email_change(user, email_form.email.data, email_form.current.data)
        except WrongPassword:
            _refuse_current_password(email_form)
        else:
            db.session.commit()
            tasks.enqueue("accounts.email_change_mail", user.id)
            g.email_link_sent = True
            flash(
                _(
                    "We have sent a link to %(new)s. Your address changes when you open it "
                    "there; until then, log in with %(current)s.",
                    new=user.pending_email,
                    current=user.email,
                ),
                "success",
            )
            return redirect(url_for("accounts.settings"))
    if name_form.submit.data and name_form.validate_on_submit():
        rename_user(user, name_form.name.data)
        db.session.commit()
        flash(_("Your name is saved."), "success")
        return redirect(url_for("accounts.settings"))
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            change_password(user, password_form.current.data, password_form.password.data)
        except WrongPassword:
            _refuse_current_password(password_form)
        else:
            db.session.commit()
            notify(user, "password_changed")
            start_session(user)  # the one session the new password leaves
            flash(_("Your new password is saved. Other browsers have been logged out."), "success")
            return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html",
        user=user,
        name_form=name_form,
        password_form=password_form,
        email_form=email_form,
        **account_sections(user),
    )


@bp.route("/email/<token>", methods=["GET", "POST"])
@link_password_limited(EMAIL)
def confirm_email_change(token: str) -> Response | tuple[str, int] | str:
    """Move the account to the address the mailed link reached, with its password.

    The link proves the new address is read, not that its reader owns the account (the
    address may have been mistyped); it does not log anyone in. The page names neither the
    account nor its current address.
    """
    try:
        user = user_for_link(token, EMAIL)
    except LinkInvalid:
        return link_invalid(EMAIL)
    form = EmailChangeConfirmForm()
    if form.validate_on_submit():
        # The password first, holding nothing: on SQLite a held row holds the database.
        try:
            check_password(user, form.current.data)
        except WrongPassword:
            _refuse_current_password(form)
            return render_template("accounts/confirm_email_change.html", form=form, user=user)
        try:
            user = user_for_link(token, EMAIL, hold=True)  # as it is now, until the commit
        except LinkInvalid:
            db.session.rollback()
            return link_invalid(EMAIL)
        new = user.pending_email
        # Moves whose undo link has expired go, with the addresses they name.
        purge_address_changes(current_app.config["EMAIL_UNDO_LINK_LIFETIME"])
        try:
            change_id = move_to_pending_email(user).id
            db.session.commit()
        except (EmailTaken, IntegrityError):
            db.session.rollback()
            flash(
                _(
                    "Another account uses %(new)s now: your address stays %(current)s.",
                    new=new,
                    current=user.email,
                ),
                "error",
            )
        else:
            tasks.enqueue("accounts.email_changed_mail", change_id)
            flash(_("Your account now uses the address %(email)s.", email=user.email), "success")
        return redirect(url_for("accounts.settings"))
    return render_template("accounts/confirm_email_change.html", form=form, user=user)


@bp.route("/email/undo/<token>", methods=["GET", "POST"])
def undo_email_change(token: str) -> Response | tuple[str, int] | str:
    """Bring an account back to the address it left, with a new password (the link mailed
    there when it moved); whoever moved it is logged out, and this browser logged in."""
    try:
        change = find_address_change(token, current_app.config["EMAIL_UNDO_LINK_LIFETIME"])
    except UndoInvalid:
        return link_invalid(UNDO)
    user, old = change.user, change.old_email
    form = UndoEmailChangeForm()
    if form.validate_on_submit():
        try:
            undo_address_change(change, form.password.data)
            db.session.commit()
        except UndoInvalid:
            db.session.rollback()
            return link_invalid(UNDO)
        except (EmailTaken, IntegrityError):
            db.session.rollback()
            form.password.errors.append(
                _("Another account uses %(email)s now: this one cannot return to it.", email=old)
            )
        else:
            tasks.enqueue("accounts.email_change_undone_mail", change.id)
            flash(
                _(
                    "Your account uses %(email)s again, with the new password. Every other "
                    "browser has been logged out, and the invitations made since the move are "
                    "revoked. Check who belongs to your appeals.",
                    email=old,
                ),
                "success",
            )
            return log_in(user, url_for("accounts.settings"), via="undo")
    return render_template("accounts/undo_email_change.html", form=form, change=change)

"""Sign up and confirm the address, log in (also through the link mailed when a flood of wrong
passwords paused logging in), log out, and choose a new password when forgotten. The account's
settings are in settings_views."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from campaign import tasks
from campaign.accounts.authentication import end_current_session, log_in
from campaign.accounts.blueprint import bp
from campaign.accounts.forms import (
    ConfirmForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
    ResetRequestForm,
    SignUpForm,
    UnlockForm,
)
from campaign.accounts.mailed_links import (
    CONFIRM,
    RESET,
    UNLOCK,
    LinkInvalid,
    request_reset,
    set_password,
    user_for_link,
)
from campaign.accounts.notices import notify
from campaign.accounts.operations import (
    EmailTaken,
    WrongPassword,
    authenticate,
    check_password,
    confirm_email,
    purge_expired,
    restart_confirmation,
    sign_up,
)
from campaign.accounts.throttling import (
    account_key,
    link_password_limited,
    login_throttled,
    unlock_throttled,
)
from campaign.extensions import db, limiter
from campaign.i18n import current_language, safe_next
from campaign.security_log import log_security_event

View = TypeVar("View", bound=Callable[..., Any])


def _throttled(setting: str) -> Callable[[View], View]:
    """Limit a form's POSTs per connection (setting_PER_IP) and per typed address
    (setting_PER_ACCOUNT)."""

    def decorate(view: View) -> View:
        per_account = limiter.limit(
            lambda: current_app.config[f"{setting}_PER_ACCOUNT"],
            key_func=account_key,
            methods=["POST"],
        )
        per_ip = limiter.limit(lambda: current_app.config[f"{setting}_PER_IP"], methods=["POST"])
        return per_ip(per_account(view))

    return decorate


@bp.route("/signup", methods=["GET", "POST"])
@_throttled("SIGNUP_LIMIT")
def signup() -> Response | str:
    """Create an organiser account and mail the link that confirms it.

    The answer is the same whether or not the address already has an account (its owner gets
    a word by mail instead): the page must not tell anyone who organises an appeal here.
    """
    if current_user.is_authenticated:
        return redirect(url_for("appeals.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        user_id = _sign_up(form)
        tasks.enqueue("accounts.signup_mail", user_id)
        if request.args.get("next"):
            # Where the sign-up began (an invitation, say), for when this browser confirms.
            session["after_confirm"] = safe_next(request.args["next"])
        return redirect(url_for("accounts.signup_sent"))
    return render_template("accounts/signup.html", form=form)


def _sign_up(form: SignUpForm) -> int:
    """Store the sign-up and return the account's id (committed)."""
    for attempt in (1, 2):
        try:
            # Accounts whose owner never confirmed go, with the name and address they hold,
            # and moves that can no longer be undone, with the address they name.
            purge_expired(current_app.config)
            try:
                user_id = sign_up(
                    name=form.name.data,
                    email=form.email.data,
                    password=form.password.data,
                    language=current_language(),
                ).id
            except EmailTaken as taken:  # raised before anything changed: the purge stands
                user_id = taken.user_id
            db.session.commit()
        except IntegrityError:
            # The same address signed up at the same moment (a double tap): once more, and
            # the account the other request made is taken over or found confirmed.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        return user_id
    raise AssertionError("unreachable")


@bp.get("/signup/sent")
def signup_sent() -> str:
    """Say where to look next."""
    return render_template("accounts/signup_sent.html")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@link_password_limited(CONFIRM)
def confirm(token: str) -> Response | tuple[str, int] | str:
    """Confirm a new account with its password (mail scanners follow links, not forms); log in.

    Once the account is confirmed the link is spent: it must not stay a way in without the
    password. The password is asked because the latest sign-up with an unconfirmed address
    sets it: without it, the address's owner could confirm an account someone else holds.
    """
    try:
        user = user_for_link(token, CONFIRM)
    except LinkInvalid:
        return link_invalid(CONFIRM)
    if user.email_confirmed_at is not None:
        return link_invalid(CONFIRM)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            check_password(user, form.password.data)
        except WrongPassword:
            db.session.rollback()
            g.password_refused = True
            form.password.errors.append(
                _(
                    "This is not the password of the latest sign-up with this address. If you "
                    "did not choose it, sign up again: the new link replaces this one."
                )
            )
            return render_template("accounts/confirm.html", form=form, user=user)
        confirm_email(user)
        db.session.commit()
        target = session.get("after_confirm") or url_for("appeals.index")
        flash(_("Welcome. Your account is ready."), "success")
        return log_in(user, target, via="confirm")
    return render_template("accounts/confirm.html", form=form, user=user)


def link_invalid(purpose: str) -> tuple[str, int]:
    """The page of a mailed link that is spent, expired or forged (404)."""
    return render_template("accounts/link_invalid.html", purpose=purpose), 404


@bp.route("/login", methods=["GET", "POST"])
@login_throttled
def login() -> Response | str:
    """Check the email and password; the same message whichever of the two was wrong."""
    if current_user.is_authenticated:
        return redirect(url_for("appeals.index"))
    form = LoginForm()
    target = safe_next(request.args.get("next") or url_for("appeals.index"))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None and user.email_confirmed_at is None:
            # Only whoever knows the password learns that the account waits: mail the link again.
            user_id = user.id
            db.session.rollback()
            log_security_event("login.failure", reason="unconfirmed")
            if restart_confirmation(user_id):  # the new link's days count from now
                db.session.commit()
                tasks.enqueue("accounts.signup_mail", user_id)
                form.email.errors.append(
                    _("Confirm your address first: we have sent you a new link. Check your email.")
                )
            else:
                form.email.errors.append(
                    _(
                        "Confirm your address first with the link we sent a few minutes ago. "
                        "Check your email."
                    )
                )
        elif user is not None:
            db.session.commit()
            return log_in(user, target)
        else:
            log_security_event("login.failure", reason="wrong_password")
            form.password.errors.append(_("The email or the password is wrong."))
    return render_template("accounts/login.html", form=form)


@bp.route("/unlock/<token>", methods=["GET", "POST"])
@unlock_throttled
def unlock(token: str) -> Response | tuple[str, int] | str:
    """Log in with the password through the link mailed when a flood of wrong passwords paused
    logging in to the account: only the limit per connection applies here."""
    try:
        user = user_for_link(token, UNLOCK)
    except LinkInvalid:
        return link_invalid(UNLOCK)
    form = UnlockForm()
    if form.validate_on_submit():
        try:
            check_password(user, form.password.data)
        except WrongPassword:
            log_security_event("login.failure", reason="wrong_password", via="unlock")
            form.password.errors.append(_("This is not the password of this account."))
        else:
            return log_in(user, url_for("appeals.index"), via="unlock")
    return render_template("accounts/unlock.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """End the session, here and on the server: a copy of the cookie no longer works."""
    if LogoutForm().validate_on_submit():
        end_current_session()
    return redirect(url_for("public.home"))


@bp.route("/reset", methods=["GET", "POST"])
@_throttled("RESET_LINK_LIMIT")
def forgot_password() -> Response | str:
    """Ask for a link to choose a new password; the answer never says if the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        request_reset(form.email.data)
        db.session.commit()
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new "
                "password. Check your email."
            ),
            "success",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int] | str:
    """Choose a new password with the mailed link, then go on logged in."""
    try:
        user = user_for_link(token, RESET, hold=request.method == "POST")
    except LinkInvalid:
        return link_invalid(RESET)
    form = NewPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db.session.commit()
        notify(user, "password_reset")
        flash(_("Your new password is saved. Other browsers have been logged out."), "success")
        return log_in(user, url_for("appeals.index"), via="reset")
    return render_template("accounts/reset_password.html", form=form)

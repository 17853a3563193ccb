"""Sign up and confirm the address, log in (also through the link mailed when a flood of wrong
passwords paused logging in), log out, choose a new password when forgotten, change one's
name, password and address, and bring an account back to the address it left."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from campaign import tasks
from campaign.accounts.authentication import (
    end_current_session,
    log_in,
    start_session,
)
from campaign.accounts.blueprint import bp
from campaign.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    EmailChangeConfirmForm,
    EmailChangeForm,
    LoginForm,
    LogoutForm,
    NameForm,
    NewPasswordForm,
    ResetRequestForm,
    SignUpForm,
    UndoEmailChangeForm,
    UnlockForm,
)
from campaign.accounts.mailed_links import (
    CONFIRM,
    EMAIL,
    RESET,
    UNDO,
    UNLOCK,
    LinkInvalid,
    link_account_id,
    request_reset,
    set_password,
    user_for_link,
)
from campaign.accounts.notices import notify
from campaign.accounts.operations import (
    EmailTaken,
    UndoInvalid,
    WrongPassword,
    ask_email_change,
    authenticate,
    change_password,
    check_password,
    confirm_email,
    find_address_change,
    move_to_pending_email,
    purge_address_changes,
    purge_expired,
    rename_user,
    restart_confirmation,
    sign_up,
    undo_address_change,
)
from campaign.accounts.session_views import account_sections
from campaign.accounts.throttling import (
    GUESS_SCOPE,
    account_key,
    counts_wrong_passwords,
    login_throttled,
    password_refused,
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


def _link_password_limited(purpose: str) -> Callable[[View], View]:
    """Count wrong passwords typed on a mailed link's page with those of the account page,
    per account (ACCOUNT_CHANGE_LIMIT), and every try per connection (LOGIN_LIMIT_PER_IP).

    Per account, not per token: the serializer ignores padding, so every spelling of one
    link would otherwise get a counter of its own.
    """

    def account_key() -> str:
        account = link_account_id((request.view_args or {}).get("token", ""), purpose)
        return f"password-change:{account}" if account is not None else "link-password:forged"

    def decorate(view: View) -> View:
        per_account = limiter.shared_limit(
            lambda: current_app.config["ACCOUNT_CHANGE_LIMIT"],
            GUESS_SCOPE,
            key_func=account_key,
            methods=["POST"],
            deduct_when=password_refused,
        )
        per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
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
@_link_password_limited(CONFIRM)
def confirm(token: str) -> Response | tuple[str, int] | str:
    """Confirm a new account with its password (mail scanners follow links, not forms); log in.

    Once the account is confirmed the link is spent: it must not stay a way in without the
    password. The password is asked because the latest sign-up with an unconfirmed address
    sets it: without it, the address's owner could confirm an account someone else holds.
    """
    try:
        user = user_for_link(token, CONFIRM)
    except LinkInvalid:
        return _link_invalid(CONFIRM)
    if user.email_confirmed_at is not None:
        return _link_invalid(CONFIRM)
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


def _link_invalid(purpose: str) -> tuple[str, int]:
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
        return _link_invalid(UNLOCK)
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
        return _link_invalid(RESET)
    form = NewPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db.session.commit()
        notify(user, "password_reset")
        flash(_("Your new password is saved. Other browsers have been logged out."), "success")
        return log_in(user, url_for("appeals.index"), via="reset")
    return render_template("accounts/reset_password.html", form=form)


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
@_link_password_limited(EMAIL)
def confirm_email_change(token: str) -> Response | tuple[str, int] | str:
    """Move the account to the address the mailed link reached, with its password.

    The link proves the new address is read, not that its reader owns the account (the
    address may have been mistyped); it does not log anyone in. The page names neither the
    account nor its current address.
    """
    try:
        user = user_for_link(token, EMAIL)
    except LinkInvalid:
        return _link_invalid(EMAIL)
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
            return _link_invalid(EMAIL)
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
        return _link_invalid(UNDO)
    user, old = change.user, change.old_email
    form = UndoEmailChangeForm()
    if form.validate_on_submit():
        try:
            undo_address_change(change, form.password.data)
            db.session.commit()
        except UndoInvalid:
            db.session.rollback()
            return _link_invalid(UNDO)
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

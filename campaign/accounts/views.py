"""Sign up and confirm the address, log in, log out, choose a new password when forgotten,
change one's name, password and address, and bring an account back to the address it left."""

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
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
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from campaign import tasks
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
)
from campaign.accounts.mailed_links import (
    CONFIRM,
    EMAIL,
    RESET,
    UNDO,
    LinkInvalid,
    credential_fingerprint,
    link_account_id,
    request_reset,
    set_password,
    user_for_link,
)
from campaign.accounts.models import User
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
    normalise_email,
    purge_address_changes,
    purge_expired,
    rename_user,
    restart_confirmation,
    sign_up,
    undo_address_change,
)
from campaign.extensions import db, limiter, login_manager
from campaign.i18n import current_language, safe_next

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
View = TypeVar("View", bound=Callable[..., Any])

login_manager.login_view = "accounts.login"
login_manager.login_message = None
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the logged-in user from the id kept in the session.

    A session started before the password last changed is over: changing a password (say,
    after a laptop was lost) logs out every other browser.
    """
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or session.get("credential") != credential_fingerprint(user):
        return None
    return user


def _account_key() -> str:
    # Every spelling of an address that reaches the same account shares one counter (the key
    # is normalised as authenticate() normalises it), and the limiter's storage (possibly
    # Redis) sees a hash, never the typed address.
    typed = request.form.get("email") or ""
    try:
        email = normalise_email(typed)
    except ValueError:
        email = typed.strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()


def _login_failed(response: Response) -> bool:
    return response.status_code != 302


def _throttled(
    setting: str, *, deduct_when: Callable[[Response], bool] | None = None
) -> Callable[[View], View]:
    """Limit a form's POSTs per connection (setting_PER_IP) and per typed address
    (setting_PER_ACCOUNT, counting only the answers deduct_when picks)."""

    def decorate(view: View) -> View:
        per_account = limiter.limit(
            lambda: current_app.config[f"{setting}_PER_ACCOUNT"],
            key_func=_account_key,
            methods=["POST"],
            deduct_when=deduct_when,
        )
        per_ip = limiter.limit(lambda: current_app.config[f"{setting}_PER_IP"], methods=["POST"])
        return per_ip(per_account(view))

    return decorate


def _password_refused(_response: Response) -> bool:
    return bool(g.get("password_refused"))


# One counter of wrong current passwords per account, whichever page they were typed on.
GUESS_SCOPE = "wrong-current-passwords"


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
            deduct_when=_password_refused,
        )
        per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
        return per_ip(per_account(view))

    return decorate


def _start_session(user: User) -> None:
    # A fresh session at login: nothing from before (a planted id, an old CSRF token) survives.
    session.clear()
    login_user(user)
    session["credential"] = credential_fingerprint(user)
    session.permanent = True


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
        _start_session(user)
        flash(_("Welcome. Your account is ready."), "success")
        return redirect(target)
    return render_template("accounts/confirm.html", form=form, user=user)


def _link_invalid(purpose: str) -> tuple[str, int]:
    return render_template("accounts/link_invalid.html", purpose=purpose), 404


@bp.route("/login", methods=["GET", "POST"])
@_throttled("LOGIN_LIMIT", deduct_when=_login_failed)
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
            _start_session(user)
            return redirect(target)
        else:
            form.password.errors.append(_("The email or the password is wrong."))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    if LogoutForm().validate_on_submit():
        logout_user()
        session.clear()
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
        _start_session(user)
        flash(_("Your new password is saved. Other browsers have been logged out."), "success")
        return redirect(url_for("appeals.index"))
    return render_template("accounts/reset_password.html", form=form)


def _refuse_current_password(form: Any) -> None:
    # Nothing of the attempt stays, it counts against ACCOUNT_CHANGE_LIMIT, and the form says so.
    db.session.rollback()
    g.password_refused = True
    form.current.errors.append(_("This is not your current password."))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@limiter.shared_limit(
    lambda: current_app.config["ACCOUNT_CHANGE_LIMIT"],
    GUESS_SCOPE,
    key_func=lambda: f"password-change:{current_user.get_id()}",
    methods=["POST"],
    deduct_when=_password_refused,
)
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
            _start_session(user)
            flash(_("Your new password is saved. Other browsers have been logged out."), "success")
            return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html",
        user=user,
        name_form=name_form,
        password_form=password_form,
        email_form=email_form,
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
            _start_session(user)
            flash(
                _(
                    "Your account uses %(email)s again, with the new password. Every other "
                    "browser has been logged out, and the invitations made since the move are "
                    "revoked. Check who belongs to your appeals.",
                    email=old,
                ),
                "success",
            )
            return redirect(url_for("accounts.settings"))
    return render_template("accounts/undo_email_change.html", form=form, change=change)

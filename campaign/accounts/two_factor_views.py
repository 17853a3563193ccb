"""The two-step login page of an account: set it up with an authenticator app, replace the
recovery codes, or turn it off."""

import segno
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campaign.accounts.authentication import current_login_session
from campaign.accounts.blueprint import bp
from campaign.accounts.forms import (
    RecoveryCodesForm,
    TwoFactorDisableForm,
    TwoFactorEnableForm,
    TwoFactorStartForm,
)
from campaign.accounts.models import User
from campaign.accounts.notices import notify
from campaign.accounts.operations import WrongPassword, check_password
from campaign.accounts.sessions import end_sessions
from campaign.accounts.throttling import counts_wrong_passwords
from campaign.accounts.two_factor import (
    CodeRefused,
    disable_two_factor,
    enable_two_factor,
    new_recovery_codes,
    provisioning_uri,
    recovery_codes_left,
    start_setup,
)
from campaign.extensions import db
from campaign.i18n import safe_next
from campaign.security_log import log_security_event


def _next() -> str:
    return safe_next(request.args.get("next") or url_for("accounts.settings"))


def _qr_code(user: User, secret: str) -> str:
    # Drawn here, as a data: address: the secret never reaches another site or a log line.
    return segno.make(provisioning_uri(user, secret), error="m").svg_data_uri(
        scale=5, border=2, dark="#111", light="#fff"
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _render(user: User, *, enable_form: TwoFactorEnableForm | None = None, **forms: object) -> str:
    setting_up = not user.two_factor_enabled and user.totp_secret is not None
    return render_template(
        "accounts/two_factor.html",
        user=user,
        next=_next(),
        start_form=TwoFactorStartForm(),
        enable_form=enable_form or TwoFactorEnableForm(formdata=None),
        disable_form=forms.get("disable_form") or TwoFactorDisableForm(formdata=None, prefix="off"),
        codes_form=forms.get("codes_form") or RecoveryCodesForm(formdata=None, prefix="codes"),
        qr_code=_qr_code(user, user.totp_secret) if setting_up else None,
        secret=_grouped(user.totp_secret) if setting_up else None,
        recovery_left=recovery_codes_left(user) if user.two_factor_enabled else 0,
    )


def _password_given(
    user: User, form: TwoFactorEnableForm | TwoFactorDisableForm | RecoveryCodesForm
) -> bool:
    try:
        check_password(user, form.current.data)
    except WrongPassword:
        g.password_refused = True
        form.current.errors.append(_("This is not your current password."))
        return False
    return True


@bp.get("/two-step")
@login_required
def two_factor() -> str:
    """Whether logging in asks for a code after the password, and how to change that."""
    return _render(current_user._get_current_object())


@bp.post("/two-step/start")
@login_required
def start_two_factor() -> Response:
    """Make a new secret for the authenticator app, shown as a QR code until a code confirms it."""
    user = current_user._get_current_object()
    if TwoFactorStartForm().validate_on_submit() and not user.two_factor_enabled:
        start_setup(user)
        db.session.commit()
    return redirect(url_for("accounts.two_factor", next=_next()))


@bp.post("/two-step/enable")
@login_required
@counts_wrong_passwords
def enable_two_factor_view() -> Response | str:
    """Turn two-step login on with a first code from the app and the password; show the
    recovery codes, once. Every other browser is logged out: it got in with a password alone."""
    user = current_user._get_current_object()
    form = TwoFactorEnableForm()
    if user.two_factor_enabled or user.totp_secret is None:
        return redirect(url_for("accounts.two_factor", next=_next()))
    if not form.validate_on_submit() or not _password_given(user, form):
        return _render(user, enable_form=form)
    try:
        codes = enable_two_factor(user, form.code.data)
    except CodeRefused:
        db.session.rollback()
        log_security_event("two_factor.failure", user=user.id, step="setup")
        form.code.errors.append(
            _("This is not the code the app shows now. Check that it is set up with this QR code.")
        )
        return _render(user, enable_form=form)
    current = current_login_session()
    end_sessions(user.id, keep=current.id if current is not None else None)
    db.session.commit()
    notify(user, "two_factor_on")
    return render_template("accounts/recovery_codes.html", codes=codes, next=_next(), new=True)


@bp.post("/two-step/recovery-codes")
@login_required
@counts_wrong_passwords
def replace_recovery_codes() -> Response | str:
    """Replace the recovery codes with new ones, given the password; show them, once."""
    user = current_user._get_current_object()
    form = RecoveryCodesForm(prefix="codes")
    if not user.two_factor_enabled:
        return redirect(url_for("accounts.two_factor"))
    if not form.validate_on_submit() or not _password_given(user, form):
        return _render(user, codes_form=form)
    codes = new_recovery_codes(user)
    db.session.commit()
    notify(user, "recovery_codes")
    return render_template("accounts/recovery_codes.html", codes=codes, next=_next(), new=False)


@bp.post("/two-step/disable")
@login_required
@counts_wrong_passwords
def disable_two_factor_view() -> Response | str:
    """Turn two-step login off, given the password."""
    user = current_user._get_current_object()
    form = TwoFactorDisableForm(prefix="off")
    if not form.validate_on_submit() or not _password_given(user, form):
        return _render(user, disable_form=form)
    disable_two_factor(user)
    db.session.commit()
    notify(user, "two_factor_off")
    flash(_("Two-step login is off: logging in asks for your password only."), "success")
    return redirect(url_for("accounts.two_factor"))

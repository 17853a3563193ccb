"""The browsers logged in to an account, which its owner may log out one by one or all at
once, and the second step of logging in."""

import logging
from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campaign.accounts.authentication import (
    current_login_session,
    end_current_session,
    lifetimes,
    pending_second_step,
    start_session,
)
from campaign.accounts.blueprint import bp
from campaign.accounts.forms import EndSessionForm, SecondStepForm
from campaign.accounts.mailed_links import credential_fingerprint
from campaign.accounts.models import User
from campaign.accounts.notices import notify
from campaign.accounts.sessions import end_session, end_sessions, live_sessions
from campaign.accounts.throttling import second_step_throttled
from campaign.accounts.two_factor import CodeRefused, check_second_step, recovery_codes_left
from campaign.extensions import db
from campaign.security_log import log_security_event


def account_sections(user: User) -> dict[str, Any]:
    """What the account page shows besides its forms: the live sessions and two-step login."""
    current = current_login_session()
    limits = lifetimes()
    return {
        "sessions": live_sessions(user.id, credential_fingerprint(user), limits),
        "session_idle": format_timedelta(limits.idle),
        "session_absolute": format_timedelta(limits.absolute),
        "current_session_id": current.id if current is not None else None,
        "end_form": EndSessionForm(),
        "recovery_left": recovery_codes_left(user) if user.two_factor_enabled else 0,
    }


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int) -> Response:
    """Log out one browser where the account is logged in (this one too, if it is this one)."""
    if not EndSessionForm().validate_on_submit():
        return redirect(url_for("accounts.settings"))
    current = current_login_session()
    if current is not None and current.id == session_id:
        end_current_session()
        return redirect(url_for("accounts.login"))
    if end_session(current_user.id, session_id):
        db.session.commit()
        flash(_("That browser is logged out."), "success")
    return redirect(url_for("accounts.settings"))


@bp.post("/sessions/end")
@login_required
def end_all_sessions() -> Response:
    """Log out every browser where the account is logged in, this one included."""
    if not EndSessionForm().validate_on_submit():
        return redirect(url_for("accounts.settings"))
    end_sessions(current_user.id)
    end_current_session()  # commits
    flash(_("You are logged out everywhere."), "success")
    return redirect(url_for("accounts.login"))


def _pending_account() -> str:
    pending = pending_second_step()
    return str(pending[0].id) if pending is not None else "none"


@bp.route("/login/code", methods=["GET", "POST"])
@second_step_throttled(_pending_account)
def second_step() -> Response | str:
    """Ask whoever just gave the password for the code from her app (or a recovery code)."""
    pending = pending_second_step()
    if pending is None:
        flash(_("Please log in again: the time to give the code ran out."), "error")
        return redirect(url_for("accounts.login"))
    user, target = pending
    form = SecondStepForm()
    if form.validate_on_submit():
        try:
            kind = check_second_step(user, form.code.data)
        except CodeRefused:
            db.session.rollback()
            g.code_refused = True
            log_security_event("two_factor.failure", user=user.id)
            form.code.errors.append(
                _("This code is not right, or was used already. Try the code the app shows now.")
            )
        else:
            db.session.commit()
            start_session(user)
            log_security_event("login.success", level=logging.INFO, user=user.id, via=kind)
            if kind == "recovery":
                notify(user, "recovery_code_used")
                flash(
                    ngettext(
                        "You used a recovery code: %(num)d is left. If you lost your app, set "
                        "up two-step login again on your account page.",
                        "You used a recovery code: %(num)d are left. If you lost your app, set "
                        "up two-step login again on your account page.",
                        recovery_codes_left(user),
                    ),
                    "success",
                )
            return redirect(target)
    return render_template("accounts/second_step.html", form=form)

"""Signing: the sign form posted, checked and stored, with the signer's mail."""

import hashlib
import hmac
import logging
from typing import Any

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import validate_csrf
from limits import parse as parse_limit
from sqlalchemy import update
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from campaign.appeals.models import Appeal
from campaign.clock import today
from campaign.database import savepoint
from campaign.extensions import csrf, db, limiter
from campaign.link_tokens import new_token
from campaign.mail_queue import queue_mail, send_stored
from campaign.security_log import log_security_event
from campaign.signatures.blueprint import bp, published_or_404
from campaign.signatures.decoys import issue_decoy
from campaign.signatures.form_stamps import FillTimer, submission_digest
from campaign.signatures.forms import SignForm, validate_sign_form
from campaign.signatures.models import Signature, SignatureStatus, SignFormSettings
from campaign.signatures.operations import (
    AppealNotOpen,
    FormChanged,
    SignOutcome,
    accepting_signatures,
    confirmation_days,
    find_submitted,
    sign_appeal,
)
from campaign.signatures.settings import consent_text
from campaign.signatures.views import new_form, render_appeal_page
from campaign.urls import public_url_for

logger = logging.getLogger(__name__)


def _daily_ip_hash() -> str:
    """Hash the client's address with a key that changes every day; the address is not kept."""
    day_key = hmac.new(
        current_app.config["SECRET_KEY"].encode(), today().isoformat().encode(), hashlib.sha256
    ).digest()
    return hmac.new(day_key, (request.remote_addr or "").encode(), hashlib.sha256).hexdigest()


def _rate_limited(appeal: Appeal) -> bool:
    item = parse_limit(current_app.config["SIGN_LIMIT_PER_IP"])
    return not limiter.limiter.hit(item, "sign", str(appeal.id), _daily_ip_hash())


def _unexpected_fields(form: SignForm) -> bool:
    """True when the request has a field the form does not know, or one field twice."""
    known = set(form._fields) | {"csrf_token"}
    return any(key not in known or len(request.form.getlist(key)) > 1 for key in request.form)


@bp.post("/<slug>")
@csrf.exempt  # the form checks its own token, so that a stale one re-shows what was typed
def sign(slug: str) -> BaseResponse | tuple[str, int]:
    """Sign the appeal with the form of its public page."""
    appeal = published_or_404(slug)
    form = new_form(appeal, bound=True)
    started = FillTimer(current_app.config["SECRET_KEY"]).read(request.form.get("started"))
    submission = submission_digest(request.form)
    earlier = _sent_before(appeal, form, submission)
    if earlier is not None:
        # The same form again (a browser's retry, a second tap): it signed already, and she
        # sees the same page as the first time. The checks below are not made again: a text
        # published or the appeal closed since does not unsign her.
        signed = _signed(appeal, earlier, form.settings, unmailed=False)
        db.session.commit()  # (a decoy link it may have been given)
        return _thank(signed)
    if not accepting_signatures(appeal):
        return render_appeal_page(appeal, form, 409, _("This appeal no longer accepts signatures."))
    if _unexpected_fields(form):
        return render_appeal_page(
            appeal,
            form,
            400,
            _(
                "The form arrived with unexpected fields, so nothing was saved. "
                "Please check it and sign again."
            ),
        )
    if form.leave_empty.data:
        # A robot filled the hidden field: it sees the usual page, and nothing is stored.
        session["signed"] = {"slug": appeal.slug, "withdraw": "", "pending": False}
        return redirect(url_for("signatures.thanks", slug=appeal.slug))
    if not validate_sign_form(form):
        if "csrf_token" in form and form.csrf_token.errors and not form.csrf_token.data:
            # The page for everyone, in a browser that did not run its scripts: the form
            # comes back with her own token now, what she typed kept.
            log_security_event("csrf.failure", reason="sign_form_without_token")
            return render_appeal_page(
                appeal,
                form,
                400,
                _(
                    "Nothing was saved yet: please check the form and send it once more. "
                    "(Your browser did not run this page's scripts, which prepare the form.)"
                ),
            )
        if "csrf_token" in form and form.csrf_token.errors:
            log_security_event("csrf.failure", reason="sign_form")
            return render_appeal_page(
                appeal,
                form,
                400,
                _(
                    "The form had expired or came from elsewhere, so nothing was saved. "
                    "Please check it and sign again."
                ),
            )
        return render_appeal_page(appeal, form, 200, _("Please correct the fields marked below."))
    if started is None or started.seconds < current_app.config["SIGN_MIN_SECONDS"]:
        return render_appeal_page(
            appeal, form, 200, _("The form was sent very quickly. Please check it and sign again.")
        )
    if started.version != appeal.latest_version.number:
        # Organisers published a new text since the page was shown: she signs what she read.
        return render_appeal_page(
            appeal,
            form,
            409,
            _(
                "The text of the appeal changed while you were reading it: this page now shows "
                "version %(number)d. Please read it again; what you typed is kept.",
                number=appeal.latest_version.number,
            ),
        )
    if _rate_limited(appeal):
        return render_appeal_page(
            appeal,
            form,
            429,
            _("Too many signatures came from this connection. Please try again later."),
        )

    settings = form.settings
    confirm_within = current_app.config["CONFIRMATION_LIFETIME"] if settings.confirm_email else None
    data = form.to_data()
    try:
        outcome = sign_appeal(
            appeal,
            data,
            consent=consent_text(settings, appeal.language),
            confirm_within=confirm_within,
            submission=submission,
        )
    except AppealNotOpen:
        return render_appeal_page(appeal, form, 409, _("This appeal no longer accepts signatures."))
    except FormChanged:
        db.session.rollback()
        return render_appeal_page(
            appeal,
            new_form(appeal, bound=True),  # the form as it is now, with what she typed
            409,
            _(
                "The organisers changed the form while you were filling it in, so nothing was "
                "saved. Please check it and sign again."
            ),
        )
    if outcome.replayed:  # the same form sent twice at once: the other request mails her
        signed = _signed(appeal, outcome, settings, unmailed=False)
        db.session.commit()
        return _thank(signed)
    # Her mail is stored in the same transaction as her signature: one write, not two (on
    # SQLite each write waits for the lock), and never a signature whose mail is missing.
    stored_mail, mailed = _store_signing_mail(appeal, data.email, outcome)
    if not mailed and (outcome.confirm_token or outcome.renewed):
        # Without its mail the signature could never be confirmed, and it would stop her from
        # signing again: nothing is kept, and she is asked to try again with what she typed.
        # (One that waited already keeps waiting, with its links: her next try renews them.)
        db.session.rollback()
        return render_appeal_page(
            appeal,
            form,
            503,
            _(
                "We could not send the email that confirms your signature, so it was not "
                "recorded. Please try again in a few minutes."
            ),
        )
    signed = _signed(appeal, outcome, settings, unmailed=not mailed and not outcome.duplicate)
    db.session.commit()
    if stored_mail is not None:
        send_stored(*stored_mail)
    return _thank(signed)


def _sent_before(appeal: Appeal, form: SignForm, submission: str) -> SignOutcome | None:
    """What this very form stored when this browser sent it before, if it did."""
    if "csrf_token" in form:
        try:  # from this browser's session only
            validate_csrf(form.csrf_token.data)
        except ValidationError:
            return None
    return find_submitted(appeal.id, submission)


def _signed(
    appeal: Appeal, outcome: SignOutcome, settings: SignFormSettings, *, unmailed: bool
) -> dict[str, Any]:
    """What the thank-you page shows her: her withdrawal link (a decoy for a duplicate, which
    behaves as hers would: signatures.decoys).

    Read before the commit, which expires the rows (reading them after it cost two queries).
    """
    signature = outcome.signature
    withdraw = outcome.withdraw_token
    if outcome.duplicate:
        lifetime = current_app.config["CONFIRMATION_LIFETIME"] if settings.confirm_email else None
        withdraw = issue_decoy(appeal.id, withdraw, lifetime)
    # A duplicate stored nothing, and looks like a new signature: pending if the form asks.
    pending = (
        signature.status is SignatureStatus.pending
        if signature is not None
        else settings.confirm_email
    )
    return {
        "slug": appeal.slug,
        "withdraw": withdraw,
        "pending": pending,
        "unmailed": unmailed,
    }


def _thank(signed: dict[str, Any]) -> BaseResponse:
    """Send her to the thank-you page (signer_views.thanks), which shows what `signed` says."""
    session["signed"] = signed
    return redirect(url_for("signatures.thanks", slug=signed["slug"]))


def _store_signing_mail(
    appeal: Appeal, email: str, outcome: SignOutcome
) -> tuple[tuple[int, str] | None, bool]:
    """Store the signer's mail (her links, or a word if she had signed) in the signing's
    transaction; return its id and purpose (None when none is due) and whether it could be.

    A failure is logged by kind only: a database's or mail server's message may quote her
    address. Sending is the queue's business once committed (campaign.mail_queue).
    """
    if outcome.renewed is not None:
        email = outcome.renewed.email  # the address her signature gave
    elif outcome.duplicate:
        email = outcome.signed_with or ""
    if not email:
        return None, True
    try:
        with savepoint():  # a failure takes the mail (and a link renewed for it) back
            subject, body, purpose = _compose(appeal, outcome, _withdraw_link_again(outcome))
            mail_id = queue_mail(
                email, subject, body, purpose=purpose, commit=False, appeal_id=appeal.id
            )
    except Exception as exc:  # the message could not even be stored
        logger.warning("Mail to a signer of appeal %s failed: %s", appeal.id, type(exc).__name__)
        return None, False
    return (mail_id, purpose), True


def _withdraw_link_again(outcome: SignOutcome) -> str | None:
    """For a repeat found by her address, a new withdrawal link of her signature, mailed
    there only (the one given before stops working): a signer who lost hers finds it again by
    signing again. None otherwise (a withdrawn signature has no link to renew).

    One UPDATE, the transaction's first statement: on SQLite a read before it would make the
    write fail at once, not wait, when another signer commits in between.
    """
    if not outcome.duplicate or outcome.signed_id is None:
        return None
    token, hashed = new_token()
    renewed = db.session.execute(
        update(Signature)
        .where(Signature.id == outcome.signed_id, Signature.withdraw_token_hash.is_not(None))
        .values(withdraw_token_hash=hashed),
        execution_options={"synchronize_session": False},
    )
    return token if renewed.rowcount == 1 else None


def _compose(
    appeal: Appeal, outcome: SignOutcome, withdraw_again: str | None = None
) -> tuple[str, str, str]:
    """The subject, text and purpose of the signer's mail for this outcome."""
    title = appeal.latest_version.title
    if outcome.renewed:
        confirm_token = outcome.renewed.confirm_token
        withdraw_token = outcome.renewed.withdraw_token
        body = ngettext(
            "Someone (perhaps you) signed “%(title)s” again with this address. Your "
            "signature has not been confirmed yet: it counts once you open this link "
            "within %(num)d day:\n%(confirm)s\n\nTo withdraw your "
            "signature later, open this private link:\n%(withdraw)s\n\nThe links sent "
            "before no longer work. Your signature keeps the details given the first time: to "
            "change them, withdraw it and sign again. If you did not sign, ignore this message: "
            "an unconfirmed signature is deleted after %(num)d day.",
            "Someone (perhaps you) signed “%(title)s” again with this address. Your "
            "signature has not been confirmed yet: it counts once you open this link "
            "within %(num)d days:\n%(confirm)s\n\nTo withdraw your "
            "signature later, open this private link:\n%(withdraw)s\n\nThe links sent "
            "before no longer work. Your signature keeps the details given the first time: to "
            "change them, withdraw it and sign again. If you did not sign, ignore this message: "
            "an unconfirmed signature is deleted after %(num)d days.",
            confirmation_days(),
            title=title,
            confirm=public_url_for("signatures.confirm", slug=appeal.slug, token=confirm_token),
            withdraw=public_url_for("signatures.withdraw", slug=appeal.slug, token=withdraw_token),
        )
        return _("Confirm your signature: %(title)s", title=title), body, "signatures.renewed"
    if outcome.duplicate:
        subject = _("You have already signed: %(title)s", title=title)
        text = _(
            "Someone (perhaps you) tried to sign “%(title)s” again with this address. "
            "Your signature was already recorded, so nothing changed. If you did not "
            "try to sign, you can ignore this message.",
            title=title,
        )
        if withdraw_again:
            link = public_url_for("signatures.withdraw", slug=appeal.slug, token=withdraw_again)
            text += "\n\n" + _(
                "To withdraw your signature, open this private link:\n%(withdraw)s\n\n"
                "The withdrawal link given before no longer works.",
                withdraw=link,
            )
        return subject, text, "signatures.duplicate"
    withdraw = public_url_for("signatures.withdraw", slug=appeal.slug, token=outcome.withdraw_token)
    if outcome.confirm_token:
        confirm = public_url_for(
            "signatures.confirm", slug=appeal.slug, token=outcome.confirm_token
        )
        body = ngettext(
            "To confirm your signature on “%(title)s”, open this link within %(num)d day:\n"
            "%(confirm)s\n\nTo withdraw your signature later, open this private link:\n"
            "%(withdraw)s",
            "To confirm your signature on “%(title)s”, open this link within %(num)d days:\n"
            "%(confirm)s\n\nTo withdraw your signature later, open this private link:\n"
            "%(withdraw)s",
            confirmation_days(),
            title=title,
            confirm=confirm,
            withdraw=withdraw,
        )
        return _("Confirm your signature: %(title)s", title=title), body, "signatures.confirm"
    else:
        body = _(
            "Thank you for signing “%(title)s”.\n\nTo withdraw your signature later, open "
            "this private link:\n%(withdraw)s",
            title=title,
            withdraw=withdraw,
        )
        return _("Thank you for signing: %(title)s", title=title), body, "signatures.thanks"

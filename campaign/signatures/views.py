"""The public appeal page with its sign form, and what follows signing."""

import hashlib
import hmac
import io
import json
import logging
import re
import secrets
from datetime import datetime
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf, validate_csrf
from limits import parse as parse_limit
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import (
    appeal_at,
    appeal_formerly_at,
    region_counts,
    signature_counts,
    version_letter,
)
from campaign.clock import today
from campaign.database import savepoint
from campaign.extensions import csrf, db, limiter
from campaign.i18n import current_language
from campaign.mail_queue import queue_mail, send_stored
from campaign.security_log import log_security_event
from campaign.signatures.audience import public_view
from campaign.signatures.form_stamps import FillTimer, submission_digest
from campaign.signatures.forms import (
    ConfirmSignatureForm,
    SignForm,
    WithdrawForm,
    sign_form_class,
    validate_sign_form,
)
from campaign.signatures.models import Signature, SignatureStatus, SignFormSettings
from campaign.signatures.operations import (
    AppealNotOpen,
    FormChanged,
    SignOutcome,
    TokenInvalid,
    accepting_signatures,
    confirm_signature,
    confirmation_days,
    find_by_confirm_token,
    find_by_withdraw_token,
    find_submitted,
    public_signatures,
    sign_appeal,
    signature_ids_at,
    withdraw_signature,
)
from campaign.signatures.presenting import region_label
from campaign.signatures.public_page import cached_page, page_key, shown_to_everyone
from campaign.signatures.settings import consent_text, sign_form_settings
from campaign.time_zones import show_times_in
from campaign.urls import public_url_for

logger = logging.getLogger(__name__)
bp = Blueprint("signatures", __name__, url_prefix="/a")


@bp.context_processor
def _confirmation_lifetime() -> dict[str, int]:
    return {"confirm_days": confirmation_days()}


TOP_REGIONS = 7


def _published_or_404(slug: str) -> Appeal:
    appeal = appeal_at(slug)
    if appeal is None:
        _follow_the_move(slug)
    if appeal is None or appeal.status is AppealStatus.draft or appeal.latest_version is None:
        abort(404)
    show_times_in(appeal.time_zone)
    return appeal


def _follow_the_move(slug: str) -> None:
    """Send a request for an appeal's former address to the same page at its address now."""
    moved = appeal_formerly_at(slug)
    if moved is None or request.endpoint is None:
        return
    arguments = {**request.args.to_dict(flat=False), **(request.view_args or {})}
    arguments["slug"] = moved.slug
    # Temporary (not cached: the appeal may move back) and keeping the method, so that a form
    # sent from a page opened before the move is sent again to the new address.
    abort(redirect(url_for(request.endpoint, **arguments), 307))


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


def render_appeal_page(
    appeal: Appeal,
    form: SignForm,
    status: int = 200,
    error: str | None = None,
    preview_letter: dict[str, Any] | None = None,
    publish_number: int | None = None,
    *,
    for_everyone: bool = False,
) -> tuple[str, int]:
    """Render the public page: letter, counts, regions, latest signatories, form, sharing.

    With preview_letter (the draft), it is the page as it will look once published; with
    publish_number too, its banner offers to publish that version. For everyone, its form
    carries no token and no stamp: the page fetches them (see public_page.py).
    """
    preview = preview_letter is not None
    language = current_language()
    before = None if preview else _cursor(appeal, request.args.get("before"))
    page_size = current_app.config["PUBLIC_LIST_PAGE_SIZE"]
    signatories = [] if preview else public_signatures(appeal.id, page_size + 1, before)
    more = len(signatories) > page_size
    signatories = signatories[:page_size]
    regions = [] if preview else region_counts(appeal.id)
    settings = form.settings
    return render_template(
        "signatures/new.html",
        appeal=appeal,
        letter=preview_letter or version_letter(appeal.latest_version),
        version=None if preview else appeal.latest_version,
        preview=preview,
        publish_number=publish_number,
        count=0 if preview else signature_counts([appeal.id])[appeal.id],
        regions=[
            (region_label(code, other="", language=language), n)
            for code, n in regions[:TOP_REGIONS]
        ],
        signatories=[(public_view(s, language).line, s) for s in signatories],
        next_cursor=_next_cursor(signatories[-1]) if more else None,
        form=form,
        error=error,
        accepting=accepting_signatures(appeal) or preview,
        consent=consent_text(settings, appeal.language),
        share_url=public_url_for("signatures.new", slug=appeal.slug),
        for_everyone=for_everyone,
    ), status


def _cursor_tag(signature_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"list-cursor:{signature_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _next_cursor(last: Signature) -> str:
    """Where the next page of the public list starts: after this signature.

    Its time and a keyed tag of its id, not the id: ids are numbered across the site, and
    would tell how many signatures it has taken (pending and hidden ones included).
    """
    return f"{last.created_at.isoformat()}_{_cursor_tag(last.id)}"


def _cursor(appeal: Appeal, value: str | None) -> tuple[datetime, int] | None:
    """Read a cursor given out by _next_cursor; None (the first page) for anything else."""
    if not value:
        return None
    stamp, _sep, tag = value.rpartition("_")
    if not re.fullmatch(r"[0-9a-f]{16}", tag):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    # The signatures of that very moment: one, or a few signed in the same microsecond.
    for signature_id in signature_ids_at(appeal.id, moment):
        if hmac.compare_digest(_cursor_tag(signature_id), tag):
            return moment, signature_id
    return None


def new_form(appeal: Appeal, *, bound: bool, csrf: bool = True) -> SignForm:
    """Return the appeal's sign form, filled from the request when bound; without csrf, it
    makes no token (which would go into the visitor's session)."""
    settings = sign_form_settings(appeal)
    form_class = sign_form_class(appeal, settings, current_language())
    meta = {} if csrf else {"csrf": False}
    form = form_class(meta=meta) if bound else form_class(formdata=None, meta=meta)
    version = appeal.latest_version.number if appeal.latest_version else 0
    form.started.data = FillTimer(current_app.config["SECRET_KEY"]).stamp(version)
    return form


@bp.route("/<slug>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so that a stale one re-shows what was typed
def new(slug: str) -> BaseResponse | tuple[str, int]:
    """The appeal's public page; posting the form signs it."""
    appeal = _published_or_404(slug)
    if request.method == "GET":
        if shown_to_everyone():
            return _page_for_everyone(appeal)
        return render_appeal_page(appeal, new_form(appeal, bound=False))

    form = new_form(appeal, bound=True)
    started = FillTimer(current_app.config["SECRET_KEY"]).read(request.form.get("started"))
    submission = submission_digest(request.form)
    earlier = _sent_before(appeal, form, submission)
    if earlier is not None:
        # The same form again (a browser's retry, a second tap): it signed already, and she
        # sees the same page as the first time. The checks below are not made again: a text
        # published or the appeal closed since does not unsign her.
        return _thank(appeal, earlier, form.settings, unmailed=False)
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
        db.session.commit()
        return _thank(appeal, outcome, settings, unmailed=False)
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
    db.session.commit()
    if stored_mail is not None:
        send_stored(*stored_mail)
    return _thank(appeal, outcome, settings, unmailed=not mailed and not outcome.duplicate)


def _page_for_everyone(appeal: Appeal) -> Response:
    """The page as every anonymous visitor sees it, the same bytes for each (public_page.py)."""
    settings = sign_form_settings(appeal)
    key = (current_language(), appeal.latest_version.number, settings.revision, *page_key())

    def render() -> str:
        g.page_for_everyone = True  # no token made for the language switcher either
        form = new_form(appeal, bound=False, csrf=False)
        form.started.data = ""
        return render_appeal_page(appeal, form, for_everyone=True)[0]

    return cached_page(appeal, key, render)


@bp.get("/<slug>/form")
def form_token(slug: str) -> Response:
    """The two values that make a page's form its visitor's own: her CSRF token (from her
    session) and the signed stamp of when the form was shown, with the letter's version."""
    appeal = _published_or_404(slug)
    stamp = FillTimer(current_app.config["SECRET_KEY"]).stamp(appeal.latest_version.number)
    response = current_app.response_class(
        json.dumps({"csrf_token": generate_csrf(), "started": stamp}),
        mimetype="application/json",
    )
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


def _sent_before(appeal: Appeal, form: SignForm, submission: str) -> SignOutcome | None:
    """What this very form stored when this browser sent it before, if it did."""
    if "csrf_token" in form:
        try:  # from this browser's session only
            validate_csrf(form.csrf_token.data)
        except ValidationError:
            return None
    return find_submitted(appeal.id, submission)


def _thank(
    appeal: Appeal, outcome: SignOutcome, settings: SignFormSettings, *, unmailed: bool
) -> BaseResponse:
    """Send her to the thank-you page, with her withdrawal link (a dead one for a duplicate)."""
    signature = outcome.signature
    # A duplicate stored nothing, and looks like a new signature: pending if the form asks.
    pending = (
        signature.status is SignatureStatus.pending
        if signature is not None
        else settings.confirm_email
    )
    session["signed"] = {
        "slug": appeal.slug,
        "withdraw": outcome.withdraw_token,
        "pending": pending,
        "unmailed": unmailed,
    }
    return redirect(url_for("signatures.thanks", slug=appeal.slug))


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
        with savepoint():  # a failure takes the mail back, not her signature
            subject, body, purpose = _compose(appeal, outcome)
            mail_id = queue_mail(email, subject, body, purpose=purpose, commit=False)
    except Exception as exc:  # the message could not even be stored
        logger.warning("Mail to a signer of appeal %s failed: %s", appeal.id, type(exc).__name__)
        return None, False
    return (mail_id, purpose), True


def _compose(appeal: Appeal, outcome: SignOutcome) -> tuple[str, str, str]:
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


@bp.get("/<slug>/thanks")
def thanks(slug: str) -> BaseResponse | str:
    """Thank the signer, show the private withdrawal link once, and offer to share."""
    appeal = _published_or_404(slug)
    signed = session.pop("signed", None)
    if not signed or signed.get("slug") != slug:
        return redirect(url_for("signatures.new", slug=slug))
    # A robot's (or a repeated signer's) page looks the same, with a link that leads nowhere.
    token = signed["withdraw"] or secrets.token_urlsafe(32)
    return render_template(
        "signatures/thanks.html",
        appeal=appeal,
        pending=signed["pending"],
        unmailed=signed.get("unmailed", False),
        withdraw_url=public_url_for("signatures.withdraw", slug=slug, token=token),
        share_url=public_url_for("signatures.new", slug=slug),
    )


def _link_invalid(slug: str) -> tuple[str, int]:
    appeal = appeal_at(slug) or appeal_formerly_at(slug)
    return render_template("signatures/link_invalid.html", appeal=appeal), 404


# The token alone identifies the signature, so that an emailed link keeps working after the
# organisers change the appeal's address; the slug in the link is only for people to read.


@bp.route("/<slug>/confirm/<token>", methods=["GET", "POST"])
def confirm(slug: str, token: str) -> tuple[str, int] | str:
    """Follow the emailed link and press the button: the signature is confirmed and counted.

    A button, not the link alone: a mail scanner that follows every link would otherwise
    confirm a signature given with someone else's address.
    """
    try:
        signature = find_by_confirm_token(token)
    except TokenInvalid:
        return _link_invalid(slug)
    appeal = db.session.get(Appeal, signature.appeal_id)
    form = ConfirmSignatureForm()
    if not form.validate_on_submit():
        # What the public will see, nothing more: whoever opens the link may not be her
        # (a mistyped address, a mail scanner).
        shown = public_view(signature, current_language()).line
        return render_template("signatures/confirm.html", appeal=appeal, form=form, shown=shown)
    try:
        confirm_signature(token)
    except TokenInvalid:
        db.session.rollback()
        return _link_invalid(slug)
    db.session.commit()
    return render_template(
        "signatures/confirmed.html",
        appeal=appeal,
        share_url=public_url_for("signatures.new", slug=appeal.slug),
    )


@bp.route("/<slug>/withdraw/<token>", methods=["GET", "POST"])
def withdraw(slug: str, token: str) -> tuple[str, int] | str:
    """Ask for confirmation, then withdraw the signature and erase the signer's data."""
    try:
        signature = find_by_withdraw_token(token)
    except TokenInvalid:
        return _link_invalid(slug)
    appeal = db.session.get(Appeal, signature.appeal_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_signature(token)
        except TokenInvalid:  # withdrawn by the other tap of a double tap: done all the same
            db.session.rollback()
            return render_template("signatures/withdrawn.html", appeal=appeal)
        db.session.commit()
        return render_template("signatures/withdrawn.html", appeal=appeal)
    return render_template("signatures/withdraw.html", appeal=appeal, form=form)


@bp.get("/<slug>/qr.svg")
def qr(slug: str) -> Response:
    """A QR code of the appeal's address, for posters."""
    appeal = _published_or_404(slug)
    url = public_url_for("signatures.new", slug=appeal.slug)
    out = io.BytesIO()
    # A standalone file (with its namespace), so that it works in <img> and as a download.
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response

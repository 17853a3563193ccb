"""The public appeal page with its sign form, the form's token, and the appeal's QR code."""

import hashlib
import hmac
import io
import json
import re
from datetime import datetime
from typing import Any

import segno
from flask import Response, current_app, g, render_template, request
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from campaign.appeals.letters import version_letter
from campaign.appeals.models import Appeal
from campaign.appeals.operations import region_counts, signature_counts
from campaign.i18n import current_language
from campaign.signatures.audience import public_view
from campaign.signatures.blueprint import bp, published_or_404
from campaign.signatures.form_stamps import FillTimer
from campaign.signatures.forms import SignForm, sign_form_class
from campaign.signatures.models import Signature
from campaign.signatures.operations import accepting_signatures, public_signatures, signature_ids_at
from campaign.signatures.presenting import region_label
from campaign.signatures.public_page import cached_page, kept_page, page_key, shown_to_everyone
from campaign.signatures.settings import consent_text, sign_form_settings
from campaign.urls import public_url_for

TOP_REGIONS = 7


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
    # The preview shows the counts and the latest signatories as they stand (the public's
    # already): "0 of 200" above a published appeal's draft told organisers something false.
    before = None if preview else _cursor(appeal, request.args.get("before"))
    page_size = current_app.config["PUBLIC_LIST_PAGE_SIZE"]
    signatories = public_signatures(appeal.id, page_size + 1, before)
    more = len(signatories) > page_size
    signatories = signatories[:page_size]
    regions = region_counts(appeal.id)
    settings = form.settings
    return render_template(
        "signatures/new.html",
        appeal=appeal,
        letter=preview_letter or version_letter(appeal.latest_version),
        version=None if preview else appeal.latest_version,
        preview=preview,
        publish_number=publish_number,
        count=signature_counts([appeal.id])[appeal.id],
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
    makes no token (which would go into the visitor's session).

    Bound, its stamp is the one sent (FillTimer.kept) when that is genuine, so that her fill
    time counts from when her page was first shown.
    """
    settings = sign_form_settings(appeal)
    form_class = sign_form_class(appeal, settings, current_language())
    meta = {} if csrf else {"csrf": False}
    form = form_class(meta=meta) if bound else form_class(formdata=None, meta=meta)
    version = appeal.latest_version.number if appeal.latest_version else 0
    timer = FillTimer(current_app.config["SECRET_KEY"])
    # Shown again after a refusal, the form keeps the stamp of her page's first showing: a
    # fresh one would refuse her corrected form, sent at once, as "too quick", again and again.
    sent = request.form.get("started") if bound else None
    form.started.data = timer.kept(sent, version) if sent else timer.stamp(version)
    return form


@bp.get("/<slug>")
def new(slug: str) -> BaseResponse | tuple[str, int]:
    """The appeal's public page (posting its form signs it: sign_views.py)."""
    if shown_to_everyone() and (kept := kept_page(slug)) is not None:
        return kept
    appeal = published_or_404(slug)
    if shown_to_everyone():
        return _page_for_everyone(appeal)
    return render_appeal_page(appeal, new_form(appeal, bound=False))


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
    appeal = published_or_404(slug)
    stamp = FillTimer(current_app.config["SECRET_KEY"]).stamp(appeal.latest_version.number)
    response = current_app.response_class(
        json.dumps({"csrf_token": generate_csrf(), "started": stamp}),
        mimetype="application/json",
    )
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


@bp.get("/<slug>/qr.svg")
def qr(slug: str) -> Response:
    """A QR code of the appeal's address, for posters."""
    appeal = published_or_404(slug)
    url = public_url_for("signatures.new", slug=appeal.slug)
    out = io.BytesIO()
    # A standalone file (with its namespace), so that it works in <img> and as a download.
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response

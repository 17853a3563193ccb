"""What follows signing: the thank-you page, and the signer's confirm and withdraw links."""

import secrets

from flask import redirect, render_template, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from campaign.appeals.models import Appeal
from campaign.appeals.operations import appeal_at, appeal_formerly_at
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.audience import public_view
from campaign.signatures.blueprint import bp, published_or_404
from campaign.signatures.decoys import find_decoy, spend_decoy
from campaign.signatures.forms import ConfirmSignatureForm, WithdrawForm
from campaign.signatures.signer_links import (
    TokenInvalid,
    confirm_signature,
    find_by_confirm_token,
    find_by_withdraw_token,
    withdraw_signature,
)
from campaign.urls import public_url_for


@bp.get("/<slug>/thanks")
def thanks(slug: str) -> BaseResponse | str:
    """Thank the signer, show the private withdrawal link once, and offer to share."""
    appeal = published_or_404(slug)
    signed = session.pop("signed", None)
    if not signed or signed.get("slug") != slug:
        return redirect(url_for("signatures.new", slug=slug))
    # A robot's page looks the same, with a link that leads nowhere. (A repeated signer's link
    # is a decoy that behaves as a real one: signatures.decoys.)
    token = signed["withdraw"] or secrets.token_urlsafe(32)
    return render_template(
        "signatures/thanks.html",
        appeal=appeal,
        pending=signed["pending"],
        unmailed=signed.get("unmailed", False),
        withdraw_url=public_url_for("signatures.withdraw", slug=slug, token=token),
        share_url=public_url_for("signatures.new", slug=slug),
    )


def _link_invalid(slug: str, *, withdrawal: bool = False) -> tuple[str, int]:
    """The page of a confirmation or withdrawal link that cannot be used: the same for one
    never given out as for one used already, so that it tells nothing of a signature."""
    appeal = appeal_at(slug) or appeal_formerly_at(slug)
    return render_template(
        "signatures/link_invalid.html", appeal=appeal, withdrawal=withdrawal
    ), 404


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
    """Ask for confirmation, then withdraw the signature and erase the signer's data.

    A repeated signing's decoy link (signatures.decoys) answers the same, and withdraws nothing.
    """
    decoy = None
    try:
        appeal_id = find_by_withdraw_token(token).appeal_id
    except TokenInvalid:
        decoy = find_decoy(token)
        if decoy is None:
            return _link_invalid(slug, withdrawal=True)
        appeal_id = decoy.appeal_id
    appeal = db.session.get(Appeal, appeal_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_template("signatures/withdraw.html", appeal=appeal, form=form)
    try:
        if decoy is None:
            withdraw_signature(token)
        else:
            spend_decoy(decoy)
    except TokenInvalid:  # withdrawn by the other tap of a double tap: done all the same
        db.session.rollback()
        return render_template("signatures/withdrawn.html", appeal=appeal)
    db.session.commit()
    return render_template("signatures/withdrawn.html", appeal=appeal)

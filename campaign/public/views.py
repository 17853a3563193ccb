"""What anyone can read without an account: the home page and the privacy page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from campaign.signatures.forms import DISPLAY_CHOICES, RELATIVE_PUBLIC_LABEL
from campaign.signatures.operations import confirmation_days
from campaign.signatures.retention import retention_months
from campaign.submissions.open_data import listed_appeals

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> Response | str:
    """Say what the site is and list the appeals whose owners list them; organisers go
    straight to their appeals."""
    if current_user.is_authenticated:
        return redirect(url_for("appeals.index"))
    return render_template("public/home.html", listed=listed_appeals())


@bp.get("/privacy")
def privacy() -> str:
    """Say what a signature collects, who sees it, how long it is kept and how to withdraw it;
    the durations are the settings', so the page says what the site does."""
    return render_template(
        "public/privacy.html",
        months=retention_months(),
        confirm_days=confirmation_days(),
        # The choices in the form's own words, whatever they become.
        display={choice.value: str(choice.label) for choice in DISPLAY_CHOICES},
        relative_public=str(RELATIVE_PUBLIC_LABEL),
    )

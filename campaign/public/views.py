"""What anyone can read without an account: the home page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> Response | str:
    """Say what the site is; organisers go straight to their appeals."""
    if current_user.is_authenticated:
        return redirect(url_for("appeals.index"))
    return render_template("public/home.html")

"""The accounts blueprint, shared by the modules whose pages it serves."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

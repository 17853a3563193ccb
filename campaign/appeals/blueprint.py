"""The appeals blueprint: the organiser's pages of an appeal, which the view modules of several
domains (appeals, signatures, dossiers, submissions, audit) add to."""

from flask import Blueprint

bp = Blueprint("appeals", __name__, url_prefix="/appeals")

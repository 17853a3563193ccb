"""The statistics page of an appeal's signatures, and its numbers as CSV (audited)."""

from flask import Response, render_template

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.statistics import signature_statistics, statistics_csv


@bp.get("/<int:appeal_id>/statistics")
@requires_role(Role.advocate)
def statistics(appeal: Appeal) -> str:
    """Valid signatures per day and by region, relationship and letter version, as charts
    with their numbers."""
    return render_template(
        "appeals/statistics.html",
        appeal=appeal,
        stats=signature_statistics(appeal, current_language()),
    )


@bp.get("/<int:appeal_id>/statistics.csv")
@requires_role(Role.advocate)
def statistics_download(appeal: Appeal) -> Response:
    """The statistics' numbers as a CSV file."""
    stats = signature_statistics(appeal, current_language())
    record_event(appeal.id, "statistics.downloaded", format="csv", total=stats.total)
    db.session.commit()
    response = Response(statistics_csv(stats), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="appeal-{appeal.id}-statistics.csv"'
    )
    return response

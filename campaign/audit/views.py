"""The owners' page of the audit log: an appeal's events, filtered and a page at a time."""

from dataclasses import dataclass
from datetime import timedelta

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select, tuple_
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice

from campaign.accounts.models import Membership, Role, User
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.actions import ACTIONS
from campaign.audit.models import AuditEvent
from campaign.audit.wording import describe
from campaign.extensions import db
from campaign.forms import DayField
from campaign.time_zones import end_of_day

PAGE_SIZE = 50


class AuditFilterForm(FlaskForm):
    """What to show of the log; sent by GET (no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), default="")
    member = SelectField(_l("Member"), default="")
    since = DayField(_l("From"))
    until = DayField(_l("Until"))

    def validate_until(self, field: DayField) -> None:
        """Refuse a range that ends before it starts."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The last day comes before the first."))


@dataclass
class AuditPage:
    """Events of a page (with the member's name) and where the next page starts."""

    events: list[tuple[AuditEvent, str | None]]
    after: int | None
    # Names of the members some events are about (a role changed, a member removed).
    names: dict[int, str]


@bp.get("/<int:appeal_id>/audit")
@requires_role(Role.owner)
def audit(appeal: Appeal) -> str:
    """The appeal's audit log, newest first: who did what and when, no personal data."""
    form = AuditFilterForm(request.args)
    form.action.choices = [
        SelectChoice("", _l("any")),
        *(SelectChoice(code, label) for code, label in ACTIONS.items()),
    ]
    form.member.choices = [
        SelectChoice("", _l("anyone")),
        *(SelectChoice(str(user_id), name) for user_id, name in _members(appeal.id)),
    ]
    page = _page(appeal, form) if form.validate() else None
    # Only the form's own fields go into the pages' links (not "appeal_id", "_external"...).
    kept = {name: request.args[name] for name in form._fields if request.args.get(name)}
    return render_template(
        "appeals/audit.html",
        appeal=appeal,
        form=form,
        page=page,
        kept=kept,
        labels=ACTIONS,
        describe=describe,
    )


def _members(appeal_id: int) -> list[tuple[int, str]]:
    """Members now, and anyone who acted on the appeal before leaving it."""
    members = select(Membership.user_id).where(Membership.appeal_id == appeal_id)
    actors = select(AuditEvent.actor_id).where(AuditEvent.appeal_id == appeal_id)
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(members.union(actors).scalar_subquery()))
        .order_by(User.name, User.id)
    )
    return [(user_id, name) for user_id, name in rows]


def _page(appeal: Appeal, form: AuditFilterForm) -> AuditPage:
    statement = (
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.appeal_id == appeal.id)
    )
    if form.action.data:
        statement = statement.where(AuditEvent.action == form.action.data)
    if form.member.data:
        statement = statement.where(AuditEvent.actor_id == int(form.member.data))
    if form.since.data:
        start = end_of_day(form.since.data - timedelta(days=1), appeal.time_zone)
        statement = statement.where(AuditEvent.created_at >= start)
    if form.until.data:
        statement = statement.where(
            AuditEvent.created_at < end_of_day(form.until.data, appeal.time_zone)
        )
    after = request.args.get("after", "")
    if after.isdigit() and len(after) < 10:
        anchor = db.session.execute(
            select(AuditEvent.created_at, AuditEvent.id).where(
                AuditEvent.id == int(after), AuditEvent.appeal_id == appeal.id
            )
        ).first()
        if anchor is not None:
            key = tuple_(AuditEvent.created_at, AuditEvent.id)
            statement = statement.where(key < tuple_(*anchor))
    rows = db.session.execute(
        statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    ).all()
    events = [(event, name) for event, name in rows[:PAGE_SIZE]]
    after_this = events[-1][0].id if len(rows) > PAGE_SIZE else None
    return AuditPage(events, after=after_this, names=_subject_names(events))


def _subject_names(events: list[tuple[AuditEvent, str | None]]) -> dict[int, str]:
    """Names of the members the events are about; a deleted account's is gone."""
    ids = {event.subject_id for event, _ in events if event.subject_type == "user"}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}

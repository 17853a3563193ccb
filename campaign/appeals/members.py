"""Organiser pages for the people on an appeal: members, roles and invitation links."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from campaign.accounts.memberships import (
    AlreadyMember,
    InvitationInvalid,
    LastOwner,
    NoLongerOwner,
    accept_invitation,
    change_role,
    find_invitation,
    invite_member,
    owner_count,
    remove_member,
    revoke_invitation,
)
from campaign.accounts.models import Invitation, Membership, Role
from campaign.appeals.access import (
    TwoFactorMissing,
    current_membership,
    require_two_factor,
    requires_role,
)
from campaign.appeals.blueprint import bp
from campaign.appeals.forms import (
    ROLE_LABELS,
    ActionForm,
    InviteForm,
    RoleForm,
    TwoFactorRequirementForm,
)
from campaign.appeals.models import Appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.urls import public_url_for


def _render_members(appeal: Appeal, invite_form: InviteForm, new_link: str | None = None) -> str:
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.appeal_id == appeal.id)
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    ).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.appeal_id == appeal.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at)
    ).all()
    return render_template(
        "appeals/members.html",
        appeal=appeal,
        memberships=memberships,
        invitations=invitations,
        invite_form=invite_form,
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
        role_form_for=lambda m: RoleForm(formdata=None, role=m.role.name),
        is_owner=current_membership().role is Role.owner,
        new_link=new_link,
        link_days=max(1, current_app.config["INVITATION_LIFETIME"].days),
        two_factor_form=TwoFactorRequirementForm(formdata=None, required=appeal.require_two_factor),
    )


@bp.get("/<int:appeal_id>/members")
@requires_role(Role.advocate)
def members(appeal: Appeal) -> str:
    """Who is on the appeal, in which role, and the pending invitations."""
    return _render_members(appeal, InviteForm(formdata=None))


@bp.post("/<int:appeal_id>/members/invite")
@requires_role(Role.owner)
def invite(appeal: Appeal) -> Response | str:
    """Create a single-use invitation link and show it once."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_members(appeal, form)
    token = invite_member(
        appeal.id, Role[form.role.data], current_user, current_app.config["INVITATION_LIFETIME"]
    )
    db.session.commit()
    link = public_url_for("appeals.invitation", token=token)
    return _render_members(appeal, InviteForm(formdata=None), new_link=link)


@bp.post("/<int:appeal_id>/members/two-step")
@requires_role(Role.owner)
def require_two_step(appeal: Appeal) -> Response:
    """Require two-step login of every member to open the appeal's pages, or stop."""
    form = TwoFactorRequirementForm()
    if form.validate_on_submit():
        try:
            require_two_factor(appeal, form.required.data, current_user)
        except TwoFactorMissing:
            flash(
                _("Set up two-step login for yourself first: then you can require it of others."),
                "error",
            )
        else:
            db.session.commit()
            if form.required.data:
                flash(
                    _(
                        "Every member now logs in with two steps to open this appeal's pages; "
                        "those without it are asked to set it up first."
                    ),
                    "success",
                )
            else:
                flash(_("Members no longer need two-step login for this appeal."), "success")
    return redirect(url_for("appeals.members", appeal_id=appeal.id))


def _membership_or_404(appeal: Appeal, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.appeal_id != appeal.id:
        abort(404)
    return membership


@bp.post("/<int:appeal_id>/members/<int:membership_id>/role")
@requires_role(Role.owner)
def change_member_role(appeal: Appeal, membership_id: int) -> Response:
    """Give a member another role."""
    membership = _membership_or_404(appeal, membership_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            change_role(membership, Role[form.role.data], by=current_membership())
        except NoLongerOwner:
            abort(403)
        except LastOwner:
            flash(_("The appeal needs at least one owner."), "error")
        else:
            db.session.commit()
            flash(_("The role is changed."), "success")
    return redirect(url_for("appeals.members", appeal_id=appeal.id))


@bp.post("/<int:appeal_id>/members/<int:membership_id>/remove")
@requires_role(Role.owner)
def remove(appeal: Appeal, membership_id: int) -> Response:
    """Take someone off the appeal."""
    membership = _membership_or_404(appeal, membership_id)
    if ActionForm().validate_on_submit():
        try:
            remove_member(membership, by=current_membership())
        except NoLongerOwner:
            abort(403)
        except LastOwner:
            flash(_("The appeal needs at least one owner."), "error")
        else:
            db.session.commit()
            flash(_("The member is removed."), "success")
    return redirect(url_for("appeals.members", appeal_id=appeal.id))


@bp.route("/<int:appeal_id>/leave", methods=["GET", "POST"])
@requires_role(Role.advocate)
def leave(appeal: Appeal) -> Response | str:
    """Take oneself off the appeal, after a confirmation page; never its last owner."""
    membership = current_membership()
    form = ActionForm()
    if form.validate_on_submit():
        title = appeal.title
        try:
            remove_member(membership)
        except LastOwner:
            db.session.rollback()
            flash(_("The appeal needs at least one owner."), "error")
        else:
            db.session.commit()
            flash(_("You have left “%(title)s”.", title=title), "success")
            return redirect(url_for("appeals.index"))
    last_owner = membership.role is Role.owner and owner_count(appeal.id) == 1
    return render_template("appeals/leave.html", appeal=appeal, form=form, last_owner=last_owner)


@bp.post("/<int:appeal_id>/invitations/<int:invitation_id>/revoke")
@requires_role(Role.owner)
def revoke(appeal: Appeal, invitation_id: int) -> Response:
    """Make an invitation link unusable."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.appeal_id != appeal.id:
        abort(404)
    if ActionForm().validate_on_submit():
        revoke_invitation(invitation)
        db.session.commit()
        flash(_("The invitation is revoked."), "success")
    return redirect(url_for("appeals.members", appeal_id=appeal.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str) -> ResponseReturnValue:
    """Accept an invitation to join an appeal."""
    form = ActionForm()
    try:
        pending = find_invitation(token)
    except InvitationInvalid:
        return render_template("appeals/invitation_invalid.html"), 404
    appeal = db.session.get(Appeal, pending.appeal_id)
    if form.validate_on_submit():
        try:
            accept_invitation(token, current_user)
        except InvitationInvalid:
            db.session.rollback()
            return render_template("appeals/invitation_invalid.html"), 404
        except AlreadyMember:
            db.session.rollback()
            flash(_("You are already a member of this appeal."), "error")
            return redirect(url_for("appeals.show", appeal_id=pending.appeal_id))
        db.session.commit()
        flash(_("You have joined the appeal."), "success")
        return redirect(url_for("appeals.show", appeal_id=pending.appeal_id))
    return render_template(
        "appeals/invitation.html", appeal=appeal, role=ROLE_LABELS[pending.role], form=form
    )

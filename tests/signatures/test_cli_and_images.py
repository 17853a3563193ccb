"""The purge command, and signature images served only to the appeal's members."""

from datetime import timedelta

from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus


def test_purge_pending_removes_only_expired_unconfirmed(runner, open_appeal, sign):
    sign(open_appeal, email="a@example.org", surname="Valid")
    sign(open_appeal, email="b@example.org", surname="Expired")
    sign(open_appeal, email="c@example.org", surname="Waiting")
    rows = {s.surname: s for s in db.session.scalars(select(Signature))}
    for name, expires in (
        ("Expired", utcnow() - timedelta(minutes=1)),
        ("Waiting", utcnow() + timedelta(days=3)),
    ):
        rows[name].status = SignatureStatus.pending
        rows[name].confirm_expires_at = expires
    db.session.commit()
    result = runner.invoke(args=["signatures", "purge-pending"])
    assert result.exit_code == 0 and "Purged 1" in result.output
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Signature.surname))) == ["Valid", "Waiting"]


def test_signature_image_is_for_members_only(client, open_appeal, sign, make_user, login):
    sign(open_appeal)
    signature = db.session.scalar(select(Signature))
    path = f"/appeals/{open_appeal.id}/signatures/{signature.id}/signature.png"
    assert "/accounts/login" in client.get(path).headers["Location"]

    advocate = make_user()
    from campaign.accounts.models import Membership

    db.session.add(Membership(appeal_id=open_appeal.id, user=advocate, role=Role.advocate))
    db.session.commit()
    login(advocate)
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == signature.image.png


def test_signature_image_of_another_appeal_is_404(client, open_appeal, make_appeal, sign, login):
    sign(open_appeal)
    signature = db.session.scalar(select(Signature))
    other = make_appeal()
    login(other.memberships[0].user)
    path = f"/appeals/{other.id}/signatures/{signature.id}/signature.png"
    assert client.get(path).status_code == 404

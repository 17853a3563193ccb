"""The organisers' preview of the public page."""

import re

from campaign.extensions import db


def test_the_preview_of_a_published_appeals_draft_shows_its_signatures_as_they_stand(
    client, login, open_appeal, make_signature
):
    for _n in range(3):
        make_signature(open_appeal)
    db.session.commit()
    login(open_appeal.memberships[0].user)
    page = client.get(f"/appeals/{open_appeal.id}/preview").get_data(as_text=True)
    assert re.search(r'<p class="count"><strong>3</strong>', page)
    assert "Налоева-3" in page  # the latest signatories, as the public sees them

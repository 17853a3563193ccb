"""`flask demo load`: a working login and an open demo appeal, however often it runs."""

import re

from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.appeals.models import Appeal, AppealVersion
from campaign.demo import DEMO_EMAIL, DEMO_SLUG
from campaign.extensions import db


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Appeal, AppealVersion)
    )


def test_demo_load_prints_a_working_login_and_is_idempotent(runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert counts() == (1, 1, 1)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert counts() == (1, 1, 1)

    password = re.search(r"password: (\S+)", second.output).group(1)
    assert DEMO_EMAIL in second.output
    response = client.post("/accounts/login", data={"email": DEMO_EMAIL, "password": password})
    assert response.status_code == 302

    html = client.get(f"/a/{DEMO_SLUG}").get_data(as_text=True)
    assert "Президенту Российской Федерации" in html
    assert "1973" in html and "Ирак" in html
    appeal = db.session.scalar(select(Appeal))
    assert (appeal.language, appeal.status.value, appeal.latest_version.number) == ("ru", "open", 1)

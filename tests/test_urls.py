"""Links given out are built from PUBLIC_URL; a mismatch with the requests is reported once."""

import logging

import pytest

from campaign.urls import public_url_for


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None, "PUBLIC_URL": "https://appeals.example.org/campaign"}


def test_links_use_the_public_address_even_inside_a_request(app):
    with app.test_request_context("/", base_url="http://evil.example"):
        assert public_url_for("verify.index") == "https://appeals.example.org/campaign/verify/"


def test_requests_for_another_host_are_reported_once(app, client, caplog):
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        client.get("/", headers={"Host": "appeals.example.org"})
        assert caplog.records == []
        client.get("/", headers={"Host": "127.0.0.1:5000"})
        client.get("/", headers={"Host": "other.example"})
    [record] = caplog.records
    assert "'127.0.0.1:5000'" in record.getMessage()
    assert "https://appeals.example.org/campaign" in record.getMessage()

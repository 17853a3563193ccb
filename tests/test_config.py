"""Configuration layers: defaults, instance/config.py, CAMPAIGN_* variables, then tests."""

from datetime import timedelta

import pytest

from campaign import create_app


def make(monkeypatch, tmp_path, env=None, instance_config=None, test_config=None):
    monkeypatch.setattr("campaign.ROOT", tmp_path)
    (tmp_path / "instance").mkdir(exist_ok=True)
    if instance_config is not None:
        (tmp_path / "instance" / "config.py").write_text(instance_config)
    for key in [k for k in __import__("os").environ if k.startswith("CAMPAIGN_")]:
        monkeypatch.delenv(key)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return create_app(test_config)


def test_defaults_use_sqlite_in_instance_and_keep_a_secret_key(monkeypatch, tmp_path):
    app = make(monkeypatch, tmp_path)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'instance' / 'campaign.sqlite'}"
    )
    key = app.config["SECRET_KEY"]
    assert len(key) > 40
    assert make(monkeypatch, tmp_path).config["SECRET_KEY"] == key
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_layers_override_in_order(monkeypatch, tmp_path):
    app = make(
        monkeypatch,
        tmp_path,
        instance_config="BODY_MAX_LENGTH = 1\nGOAL = 'instance'\nTITLE_MAX_LENGTH = 5\n",
        env={"CAMPAIGN_GOAL": "env", "CAMPAIGN_TITLE_MAX_LENGTH": "7"},
    )
    assert app.config["BODY_MAX_LENGTH"] == 1  # instance over defaults
    assert app.config["GOAL"] == "env"  # environment over instance
    assert app.config["TITLE_MAX_LENGTH"] == 7  # JSON values are decoded
    app = make(monkeypatch, tmp_path, env={"CAMPAIGN_GOAL": "env"}, test_config={"GOAL": "test"})
    assert app.config["GOAL"] == "test"  # the test mapping last


def test_database_url_selects_postgresql_with_psycopg(monkeypatch, tmp_path):
    app = make(monkeypatch, tmp_path, env={"DATABASE_URL": "postgresql://u@db.internal/campaign"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/campaign"
    app = make(monkeypatch, tmp_path, env={"DATABASE_URL": "postgres://u@h/c"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/c"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNUP_LINK_LIFETIME", timedelta(minutes=20)),
        ("CONFIRMATION_LIFETIME", timedelta(hours=5)),
        ("EMAIL_UNDO_LINK_LIFETIME", timedelta(hours=23)),
        ("RESET_LINK_LIFETIME", timedelta(seconds=30)),
        ("INVITATION_LIFETIME", timedelta(hours=1)),
    ],
)
def test_a_lifetime_shorter_than_the_unit_mails_state_it_in_is_refused(
    monkeypatch, tmp_path, name, value
):
    # "Within 1 hour" for a link that lasts 20 minutes would promise more than it gives.
    with pytest.raises(ValueError, match=name):
        make(monkeypatch, tmp_path, test_config={name: value})


def test_private_details_are_kept_at_least_a_month(monkeypatch, tmp_path):
    assert make(monkeypatch, tmp_path).config["PRIVATE_DATA_RETENTION_MONTHS"] == 12
    with pytest.raises(ValueError, match="PRIVATE_DATA_RETENTION_MONTHS"):
        make(monkeypatch, tmp_path, env={"CAMPAIGN_PRIVATE_DATA_RETENTION_MONTHS": "0"})


def test_a_shared_queue_with_state_kept_on_one_host_is_named(monkeypatch, tmp_path, caplog):
    from campaign.config import local_state

    app = make(monkeypatch, tmp_path, env={"CAMPAIGN_TASK_QUEUE": "redis://queue:6379/0"})
    named = local_state(app, secret_from_file=True)
    assert [entry.split(" ")[0] for entry in named] == [
        "RATELIMIT_STORAGE_URI",
        "SECRET_KEY",
        "DATA_KEYS",
        "SQLALCHEMY_DATABASE_URI",
        "DOSSIER_FOLDER",
    ]
    assert "keep state on this host" in caplog.text
    shared = make(
        monkeypatch,
        tmp_path,
        env={
            "CAMPAIGN_TASK_QUEUE": "redis://queue:6379/0",
            "CAMPAIGN_RATELIMIT_STORAGE_URI": "redis://queue:6379/1",
            "CAMPAIGN_SECRET_KEY": "one-for-all",
            "CAMPAIGN_DATA_KEYS": "0000c0de:" + "A" * 43,
            "DATABASE_URL": "postgresql://db/campaign",
            "CAMPAIGN_DOSSIER_FOLDER": str(tmp_path / "shared"),
        },
    )
    assert local_state(shared, secret_from_file=False) == []
    # One host with its SQLite queue: nothing to say.
    assert local_state(make(monkeypatch, tmp_path), secret_from_file=True) == []

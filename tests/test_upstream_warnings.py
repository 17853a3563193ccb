"""Third-party warnings: silenced by exact message only, and no `flask` command prints one."""

import os
import subprocess
import sys
import warnings

import pytest

from campaign import ROOT
from campaign.upstream_warnings import UPSTREAM_WARNINGS, _category, silence_upstream_warnings

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


@pytest.mark.parametrize("known", UPSTREAM_WARNINGS, ids=lambda known: known.category)
def test_only_the_exact_message_is_silenced(known):
    category = _category(known.category)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_upstream_warnings()
        warnings.warn(known.message, category, stacklevel=1)
        warnings.warn(known.message + " And more.", category, stacklevel=1)
        warnings.warn("Something else is deprecated.", category, stacklevel=1)
    assert [str(warning.message) for warning in caught] == [
        known.message + " And more.",
        "Something else is deprecated.",
    ]
    assert known.remove_when


def test_flask_finds_the_app_from_the_project_root_and_prints_no_warning(tmp_path):
    # As the README writes it: `flask ...` from the project root, found through .flaskenv.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "CAMPAIGN_")) and key != "DATABASE_URL"
    }
    env["CAMPAIGN_SECRET_KEY"] = "cli-test"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env["PYTHONWARNINGS"] = "default"  # what a warning would look like, had one been raised
    for args in (["--help"], ["dossiers", "--help"], ["routes"]):
        result = subprocess.run(
            [FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", args
    assert (
        "demo"
        in subprocess.run(
            [FLASK, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        ).stdout
    )

"""The organiser's pages (and the public page) are valid HTML for the Nu Html Checker
(vnu-jar from the npm registry, installed at set-up; run with java), in Russian and English."""

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from campaign.accounts.models import Role
from campaign.appeals.operations import publish_appeal
from campaign.extensions import db
from campaign.signatures.moderation import flag_signature
from tests.scan_files import jpeg_scan

pytestmark = pytest.mark.browser

VNU = Path(__file__).parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def check(folder: Path) -> dict[str, list[str]]:
    """Run the checker once over every .html file of the folder; problems by file."""
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run 'make install-test' (npm install).")
    if shutil.which("java") is None:
        pytest.fail(
            "java is missing: the Nu Html Checker runs on it ('apt-get install default-jre')."
        )
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(VNU), "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # The checker writes its JSON report on stderr; anything else is the checker failing.
    report = json.loads(result.stderr)
    problems: dict[str, list[str]] = {}
    for message in report["messages"]:
        if message["type"] in {"error", "non-document-error"}:
            name = Path(message.get("url", "?")).name
            problems.setdefault(name, []).append(
                f"{message.get('lastLine', '?')}: {message['message']}"
            )
    return problems


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_organisers_pages_are_valid_html(
    app, client, login, make_user, make_appeal, make_signature, tmp_path, language
):
    folder = tmp_path / "pages"
    folder.mkdir()
    owner = make_user(language=language)
    appeal = make_appeal(
        owner=owner,
        members={make_user(): Role.editor},
        language="ru",
        country="RU",
        title="Верните наших родных",
    )
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    first = make_signature(appeal, surname="Налоева", given_name="Мадина", relative_name="Ислам")
    second = make_signature(appeal, surname="Naloyeva", given_name="Madina", relative_name="Islam")
    make_signature(appeal, surname="Гаджиева", given_name="Айша", region="RU-DA")
    flag_signature(first, seen_revision=0, actor_id=owner.id, reason="проверить")
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(owner)
    base = f"/appeals/{appeal.id}/"
    confirm = client.post(
        base + "signatures/bulk", data={"signature": [str(second.id)], "action": "reject"}
    )
    (folder / "bulk-confirm.html").write_bytes(confirm.data)
    # The paper desk's pages: a stored scan, a table uploaded (its preview) and one imported.
    client.post(
        base + "paper/scans",
        data={"sheet": "3", "scan": (io.BytesIO(jpeg_scan()), "sheet.jpg")},
        content_type="multipart/form-data",
    )
    table = "surname,given_name,region,relationship,sheet,line\n{}\n"
    uploaded = []
    for row in ("Хасанова,Айша,RU-CE,мать,3,1", "Умарова,Заира,RU-CE,мать,3,2"):
        response = client.post(
            base + "paper/import",
            data={"table": (io.BytesIO(table.format(row).encode()), "t.csv")},
            content_type="multipart/form-data",
        )
        uploaded.append(response.headers["Location"])
    mapping = {f"column-{i}": name for i, name in enumerate(table.split("\n")[0].split(","))}
    imported = client.post(uploaded[1], data={**mapping, "import": "1"}).headers["Location"]
    # The pages as served, with their CSRF tokens (the suite's other tests turn them off).
    app.config["WTF_CSRF_ENABLED"] = True
    pages = {
        "overview": base,
        "edit": base + "edit",
        "preview": base + "preview",
        "settings": base + "settings",
        "dossiers": base + "dossiers",
        "members": base + "members",
        "duplicates": base + "duplicates",
        "families": base + "families",
        "signatures": base + "signatures",
        "signatures-errors": base + "signatures?signed_from=06.12&status=eaten",
        "signature": base + f"signatures/{first.id}",
        "audit": base + "audit",
        "statistics": base + "statistics",
        "paper": base + "paper",
        "paper-new": base + "paper/new",
        "scan-delete": base + "paper/scans/3/delete",
        "import-preview": uploaded[0],
        "import-status": imported,
        "export": base + "export",
        "my-appeals": "/appeals/",
        "public": f"/a/{appeal.slug}",
    }
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        (folder / f"{name}.html").write_bytes(response.data)
    problems = check(folder)
    assert {name: found for name, found in sorted(problems.items())} == {}, "\n".join(
        f"{name}: {found}" for name, found in sorted(problems.items())
    )

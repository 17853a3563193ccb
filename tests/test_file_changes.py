"""Files changed with a transaction: put back when it fails, the old ones removed once it
holds."""

import pytest

from campaign.extensions import db
from campaign.file_changes import HIDDEN_PREFIX, FileChange, commit_with


@pytest.fixture
def folder(tmp_path):
    made = tmp_path / "scans"
    made.mkdir()
    return made


def names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_replaced_file_comes_back_when_the_change_is_undone(folder):
    scan = folder / "sheet-3.pdf"
    scan.write_bytes(b"before")
    change = FileChange()
    change.set_aside(scan)
    assert names(folder) == [f"{HIDDEN_PREFIX}sheet-3.pdf"]
    change.write(scan, b"after")
    change.write(folder / "sheet-3.jpg", b"another")
    change.undo()
    assert names(folder) == ["sheet-3.pdf"]
    assert scan.read_bytes() == b"before"


def test_finishing_removes_what_was_set_aside_and_keeps_what_was_written(folder):
    scan = folder / "sheet-3.pdf"
    scan.write_bytes(b"before")
    change = FileChange()
    change.set_aside(scan)
    change.write(folder / "sheet-3.jpg", b"after")
    assert change.set_aside_files == [scan]
    change.finish()
    assert names(folder) == ["sheet-3.jpg"]
    change.undo()  # finished: nothing left to undo
    assert names(folder) == ["sheet-3.jpg"]


def test_a_file_gone_meanwhile_is_not_set_aside(folder):
    change = FileChange()
    change.set_aside(folder / "sheet-3.pdf")
    assert change.set_aside_files == []


def test_a_failed_commit_puts_the_files_back(app, folder, monkeypatch):
    scan = folder / "sheet-3.pdf"
    scan.write_bytes(b"before")
    change = FileChange()
    change.set_aside(scan)
    change.write(folder / "sheet-3.png", b"after")

    def refused():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", refused)
    with pytest.raises(RuntimeError):
        commit_with(change)
    assert names(folder) == ["sheet-3.pdf"]
    assert scan.read_bytes() == b"before"


def test_a_commit_that_holds_removes_what_was_set_aside(app, folder):
    scan = folder / "sheet-3.pdf"
    scan.write_bytes(b"before")
    change = FileChange()
    change.set_aside(scan)
    commit_with(change)
    assert names(folder) == []

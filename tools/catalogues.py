"""Extract the messages afresh, update the catalogues, and fill the English one from the source.

The source strings are English, so the English catalogue is the identity; keeping it complete
makes a missing message visible in the same way for both languages.
"""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "translations" / "messages.pot"
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2"]


def extract(output: Path) -> None:
    """Write a fresh template of every message in the code and templates."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *KEYWORDS,
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(output),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )


def fill_english(path: Path) -> None:
    """Set every English translation to its source text."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, no_location=True, width=100)


def main() -> None:
    """Extract, update ru and en (creating them if new), fill en."""
    extract(POT)
    for language in ("ru", "en"):
        po = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                command,
                "-i",
                str(POT),
                "-d",
                str(ROOT / "translations"),
                "-l",
                language,
                "--width=100",
            ]
            + (["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []),
            check=True,
            capture_output=True,
        )
    fill_english(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po")


if __name__ == "__main__":
    main()

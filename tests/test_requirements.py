"""What the app imports is installed by `make run`: every third-party module that campaign/
imports comes from a package in requirements/main.txt, not only in the tests' lock file.

(pypdf was a test dependency while submissions/scans.py imported it: `make run` failed on a
fresh clone, and the suite, run with the tests' packages installed, could not see it.)
"""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from campaign import ROOT


def _imported_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / "campaign").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], path)
    return found


def _locked(lock: Path) -> set[str]:
    names = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock.read_text(), re.MULTILINE)
    return {_normal(name) for name in names}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_module_the_app_imports_is_in_the_apps_lock_file():
    locked = _locked(ROOT / "requirements" / "main.txt")
    providers = packages_distributions()
    missing = []
    for module, path in sorted(_imported_modules().items()):
        if module == "campaign" or module in sys.stdlib_module_names:
            continue
        distributions = {_normal(name) for name in providers.get(module, [])}
        if not distributions & locked:
            missing.append(f"{module} ({path.relative_to(ROOT)}; from {sorted(distributions)})")
    assert not missing, "imported by the app but not in requirements/main.txt: " + ", ".join(
        missing
    )

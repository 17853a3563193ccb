"""Two transactions at once: the second runs while the first holds its changes uncommitted."""

import threading
import time
from collections.abc import Callable

from flask import Flask

from campaign.extensions import db


def while_the_first_holds(
    app: Flask,
    first: Callable[[], None],
    second: Callable[[], None],
    refused: type[Exception] | tuple[type[Exception], ...],
) -> tuple[str, str]:
    """Run `first` in a thread, keep its transaction open while `second` runs, then commit it.

    Each runs in its own application context (so its own session and connection) and ends
    "done" (committed) or "refused" (it raised `refused`, and was rolled back).
    """
    held = threading.Event()
    outcomes: dict[str, str] = {}

    def run(name: str, operation: Callable[[], None], hold: bool) -> None:
        with app.app_context():
            try:
                operation()
                if hold:
                    held.set()
                    time.sleep(0.5)  # still uncommitted while the other one runs
                db.session.commit()
                outcomes[name] = "done"
            except refused:
                db.session.rollback()
                outcomes[name] = "refused"
            finally:
                held.set()
                db.session.remove()

    thread = threading.Thread(target=run, args=("first", first, True))
    thread.start()
    assert held.wait(10)
    run("second", second, False)
    thread.join()
    return outcomes["first"], outcomes["second"]

"""Real `flask tasks worker` processes for tests: each in its own process group, as systemd
starts it, stopped by a signal to the group; and a mail server that never answers."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import TEST_DATA_KEY

# systemd's default TimeoutStopSec is 90 s; the worker should need far less. Generous, since
# the machine running the suite may be loaded: this bounds a hang, it measures nothing.
GRACE_SECONDS = 60


def real_queue(queue_file: Path) -> dict[str, object]:
    """The test app's settings for a real queue in queue_file, consumed by workers only."""
    return {
        "TASK_QUEUE_IMMEDIATE": False,
        "TASK_QUEUE": f"sqlite:///{queue_file}",
        "TASK_WORKERS": 0,
    }


class Workers:
    """Start workers on the test's database and queue file; kill_all() those still running."""

    def __init__(self, database_url: str, queue_file: Path, dossier_folder: Path, logs: Path):
        self.database_url = database_url
        self.queue_file = queue_file
        self.dossier_folder = dossier_folder
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, **extra: str) -> subprocess.Popen[bytes]:
        """Start a worker, with extra CAMPAIGN_* settings in its environment."""
        env = {
            **os.environ,
            "FLASK_APP": "campaign",
            "CAMPAIGN_SECRET_KEY": "test-secret",
            "CAMPAIGN_DATA_KEYS": TEST_DATA_KEY,
            "CAMPAIGN_SQLALCHEMY_DATABASE_URI": self.database_url,
            "CAMPAIGN_TASK_QUEUE": f"sqlite:///{self.queue_file}",
            "CAMPAIGN_DOSSIER_FOLDER": str(self.dossier_folder),
            "CAMPAIGN_DOSSIER_PROCESSES": "2",
            "CAMPAIGN_PUBLIC_URL": "http://campaign.test",
            **extra,
        }
        with (self.logs / f"worker-{len(self.started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "tasks", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def kill_all(self) -> None:
        """Kill the workers still running, and their children."""
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stop_group(process: subprocess.Popen[bytes], signum: int) -> int | None:
    """Send a signal to the worker's process group, as systemd does; its exit code or None."""
    os.killpg(process.pid, signum)
    try:
        return process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        return None


@contextmanager
def silent_mail_server() -> Iterator[dict[str, str]]:
    """A mail server that takes the connection and never says a word, so a send hangs; yields
    a worker's settings to send there."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        yield {
            "CAMPAIGN_MAIL_BACKEND": "smtp",
            "CAMPAIGN_MAIL_SERVER": "127.0.0.1",
            "CAMPAIGN_MAIL_PORT": str(silent.getsockname()[1]),
            "CAMPAIGN_MAIL_TIMEOUT": str(GRACE_SECONDS * 2),
        }

"""The nx-27017 MongoDB stand-in (a MongoDB wire-protocol server on SQLite),
run as a real process on a free loopback port for tests.

There is no MongoDB on these machines; the stand-in speaks the subset the
backend uses (insert/find/update, unique indexes, sort). Install it with
`pip install nx-27017==0.8.1` (it is in requirements-test.txt).
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pymongo

from tests.utils.redis_server import free_port


def _executable() -> str | None:
    beside_python = Path(sys.executable).with_name("nx-27017")
    return str(beside_python) if beside_python.exists() else shutil.which("nx-27017")


class MongoStandIn:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> None:
        executable = _executable()
        if executable is None:
            raise RuntimeError("nx-27017 is not installed: pip install -r requirements-test.txt")
        # Its own pid and log files: the defaults (/tmp/nx_27017.*) are shared by
        # every instance on the machine, and a second instance refuses to start.
        log = self.workdir / "nx-27017.log"
        self.process = subprocess.Popen(
            [
                executable,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.workdir / "data"),
                "--pid-file",
                str(self.workdir / "nx-27017.pid"),
                "--log-file",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        client = pymongo.MongoClient("127.0.0.1", self.port, serverSelectionTimeoutMS=300)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.admin.command("ping")
                    return
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        detail = log.read_text()[-2000:] if log.exists() else ""
                        raise RuntimeError(f"nx-27017 did not start on port {self.port}:\n{detail}") from None
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

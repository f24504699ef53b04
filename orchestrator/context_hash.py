"""The content hash of an agent's build context: the image cache key.

The set of files is the one Docker sends: `.dockerignore` patterns are applied
with docker-py's own matcher (`docker.utils.build.exclude_paths`, Go
`filepath.Match` semantics plus `**` and `!` exceptions), and, as the Docker CLI
does, the Dockerfile and `.dockerignore` themselves are always sent. The worker
builds from exactly this file list (`build_context_archive`), so the hash can
never describe a different context than the one that was built.

The hash covers, for every sent entry in sorted order: its relative path, its
kind, its permission bits, and its contents (files) or target (symlinks). File
times are left out: a fresh checkout or upload of the same sources gives the
same hash. Changing one byte, a file name or an executable bit gives another.
"""

import hashlib
import os
import stat
from pathlib import Path
from typing import IO

from docker.utils.build import create_archive, exclude_paths

from .validate import InvalidAgent

HASH_SCHEME = b"nasiko-context-v1\0"


def read_dockerignore(root: Path) -> list[str]:
    """Patterns of `root/.dockerignore`, read the way docker-py reads them."""
    path = root / ".dockerignore"
    if not path.is_file():
        return []
    try:
        # utf-8-sig: a byte-order mark (editors on Windows add one) is dropped,
        # as the Docker CLI drops it, so the first pattern still applies.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidAgent(f"{path} is not UTF-8 text: save it as plain text, one pattern a line") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def context_files(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Relative paths (files, links and directories) Docker would send, sorted."""
    patterns = read_dockerignore(root) + ["!.dockerignore"]
    return sorted(exclude_paths(str(root), patterns, dockerfile=dockerfile))


def context_hash(root: Path, files: list[str] | None = None) -> str:
    """Hex SHA-256 of the build context under `root` (see the module docstring)."""
    digest = hashlib.sha256(HASH_SCHEME)
    for relative in files if files is not None else context_files(root):
        path = root / relative
        info = os.lstat(path)
        digest.update(relative.encode("utf-8") + b"\0")
        digest.update(f"{_kind(info.st_mode)}:{stat.S_IMODE(info.st_mode):o}\0".encode())
        if stat.S_ISLNK(info.st_mode):
            digest.update(os.readlink(path).encode("utf-8") + b"\0")
        elif stat.S_ISREG(info.st_mode):
            digest.update(f"{info.st_size}\0".encode())
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def build_context_archive(root: Path, files: list[str]) -> IO[bytes]:
    """An uncompressed tar of exactly `files`, ready for the engine's /build."""
    return create_archive(str(root), files=files)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "d"
    if stat.S_ISLNK(mode):
        return "l"
    return "f" if stat.S_ISREG(mode) else "o"

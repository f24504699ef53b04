"""Agent sources into the uploads volume, safely and atomically.

An upload lands in `<uploads>/<agent>/<upload_id>/`, which the worker reads
as `agent_path`. Every source is first assembled in a hidden temporary folder
next to its destination and then renamed into place, so the worker never
sees half an upload.

What is refused (SourceRejected, with the HTTP status to answer):

    400  not a zip file, an absolute path, a `..` component, a link whose
         target leaves the agent folder, entries that collide
    413  more entries or more bytes than the limits allow

Links that stay inside the folder are kept. They are created only after every
regular file is written (so no write can pass through one), and then each is
resolved for real, so a chain of links cannot escape either.
"""

import errno
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# Folders zip tools add on their own; never part of an agent.
_IGNORED_TOP_LEVEL = {"__MACOSX"}


# A corrupt, encrypted or exotic archive (bad CRC, unknown compression, a link
# loop): the uploader's problem, answered with 400, never a traceback.
_BROKEN_ARCHIVE = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error)
# Entries that cannot coexist (`x` and `x/`), or a name the file system refuses.
_CLASHING_ENTRIES = {errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP}


class SourceRejected(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_bytes: int


def _entry_parts(name: str) -> tuple[str, ...]:
    """The path components of a zip entry; refuses absolute and `..` paths."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SourceRejected(
            400, f"zip entry {name!r} has an absolute path; zip the folder with relative paths"
        )
    parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise SourceRejected(400, f"zip entry {name!r} climbs out of the folder with '..'; remove it")
    return parts


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _strip_single_top_folder(entries: list[tuple[tuple[str, ...], zipfile.ZipInfo]]):
    """`agent/Dockerfile, agent/src/a.py` -> `Dockerfile, src/a.py`: a zipped folder unwrapped."""
    tops = {parts[0] for parts, _ in entries}
    if len(tops) != 1:
        return entries
    if any(len(parts) == 1 and not info.is_dir() for parts, info in entries):
        return entries  # a single top-level *file*, not a folder
    return [(parts[1:], info) for parts, info in entries if len(parts) > 1]


def _ensure_links_stay_inside(root: Path, links: list[Path]) -> None:
    real_root = root.resolve()
    for link in links:
        target = link.resolve()
        if target != real_root and real_root not in target.parents:
            shown = link.relative_to(root)
            raise SourceRejected(
                400, f"link {str(shown)!r} points outside the agent folder; replace it with the file itself"
            )


def _publish(staging: Path, destination: Path) -> Path:
    """Rename the finished staging folder into place (atomic on one file system)."""
    os.replace(staging, destination)
    return destination


def _staging_dir(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the sources from a non-root reader
    return staging


def extract_zip(archive: BinaryIO, destination: Path, limits: Limits) -> Path:
    """Check every entry of `archive`, then extract it into `destination` atomically."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SourceRejected(400, "the upload is not a zip file; send the agent folder zipped") from None
    with zf:
        infos = [i for i in zf.infolist() if _entry_parts(i.filename)]
        infos = [i for i in infos if _entry_parts(i.filename)[0] not in _IGNORED_TOP_LEVEL]
        if len(infos) > limits.max_entries:
            raise SourceRejected(
                413,
                f"the zip has {len(infos)} entries, more than the limit of {limits.max_entries};"
                " leave out generated folders (.venv, node_modules) with .dockerignore",
            )
        total = sum(i.file_size for i in infos)
        if total > limits.max_bytes:
            raise SourceRejected(
                413,
                f"the zip expands to {total} bytes, more than the limit of {limits.max_bytes}",
            )
        entries = _strip_single_top_folder([(_entry_parts(i.filename), i) for i in infos])
        if not entries:
            raise SourceRejected(400, "the zip is empty; zip the agent folder itself")

        staging = _staging_dir(destination.parent)
        try:
            try:
                links = _write_entries(zf, staging, entries)
                _ensure_links_stay_inside(staging, links)
            except _BROKEN_ARCHIVE as exc:
                raise SourceRejected(400, f"the zip cannot be extracted: {exc}; zip the folder again") from exc
            except OSError as exc:
                if exc.errno not in _CLASHING_ENTRIES:
                    raise  # the volume's problem (full, read-only): a 500 that says so
                raise SourceRejected(400, f"the zip's entries clash: {exc.strerror}: {exc.filename!s}") from exc
            return _publish(staging, destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _write_entries(zf: zipfile.ZipFile, root: Path, entries) -> list[Path]:
    pending_links: list[tuple[Path, str]] = []
    for parts, info in entries:
        target = root.joinpath(*parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif _is_symlink(info):
            link_target = zf.read(info).decode("utf-8", errors="replace")
            if PurePosixPath(link_target).is_absolute():
                raise SourceRejected(
                    400,
                    f"link {'/'.join(parts)!r} points to the absolute path {link_target!r};"
                    " links must stay inside the agent folder",
                )
            pending_links.append((target, link_target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode | stat.S_IRUSR | stat.S_IWUSR)
    links = []
    for path, link_target in pending_links:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link_target, path)
        except (FileExistsError, NotADirectoryError):
            raise SourceRejected(400, f"zip entry {str(path.relative_to(root))!r} appears twice") from None
        links.append(path)
    return links


def copy_directory(source: Path, destination: Path, limits: Limits) -> Path:
    """Snapshot the folder `source` into `destination` atomically, within `limits`."""
    count, size = 0, 0
    for folder, dirs, files in os.walk(source):  # does not follow links
        count += len(dirs) + len(files)
        if count > limits.max_entries:
            raise SourceRejected(
                413,
                f"{source} holds more than {limits.max_entries} files and folders;"
                " remove generated folders (.venv, node_modules) or upload a zip",
            )
        size += sum(os.lstat(os.path.join(folder, f)).st_size for f in files)
    if size > limits.max_bytes:
        raise SourceRejected(413, f"{source} holds {size} bytes, more than the limit of {limits.max_bytes}")

    staging = _staging_dir(destination.parent)
    try:
        tree = staging / "tree"
        shutil.copytree(source, tree, symlinks=True)
        links = [Path(folder, name) for folder, dirs, files in os.walk(tree) for name in dirs + files]
        links = [p for p in links if p.is_symlink()]
        _ensure_links_stay_inside(tree, links)
        published = _publish(tree, destination)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""Build zip archives in memory, including hostile ones (links, `..`)."""

import io
import stat
import zipfile

AGENT_FILES = {
    "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
    "AgentCard.json": '{"name": "demo", "description": "d", "url": "http://demo:5000/", "version": "1"}',
    "src/app.py": "print('hello')\n",
}


def make_zip(files: dict[str, str | bytes], links: dict[str, str] | None = None) -> bytes:
    """A zip of `files` (name -> content) and `links` (name -> link target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode bits below are meaningful
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buffer.getvalue()

"""Reading the engine's build stream, including failures reported inside it.

The engine answers `POST /build` with HTTP 200 and then streams JSON objects;
a failed RUN step does not change the status code, it arrives as one more
object::

    {"stream": "Step 3/6 : RUN pip install -r requirements.txt\\n"}
    {"errorDetail": {"code": 1, "message": "The command ... returned a non-zero code: 1"},
     "error": "The command ... returned a non-zero code: 1"}

Objects are not aligned with HTTP chunks: one object can be split across
chunks (even inside a multi-byte character) and one chunk can hold several.
`parse_build_stream` reassembles them and turns an error object into
`BuildFailed`, so a failure can never be mistaken for success.
"""

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from docker.errors import StreamParseError
from docker.utils.json_stream import json_stream

# Terminal colour and cursor codes (pip colours its errors): they would end up
# verbatim in events, status messages and a person's terminal.
_CONTROL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _plain(text: str) -> str:
    return _CONTROL_CODES.sub("", text)


class BuildFailed(Exception):
    """The image was not built; the message is the engine's (or the worker's) reason."""


@dataclass(frozen=True)
class BuildLine:
    """One human-readable line of build output."""

    text: str


@dataclass(frozen=True)
class BuiltImage:
    """The engine reported the id of the image it built."""

    image_id: str


def parse_build_stream(chunks: Iterable[bytes | str]) -> Iterator[BuildLine | BuiltImage]:
    """Yield log lines and the built image id; raise BuildFailed on an error object."""
    try:
        yield from _objects_to_items(json_stream(_as_text(chunks)))
    except StreamParseError as exc:
        raise BuildFailed(f"the engine's build stream ended in the middle of a message ({exc})") from exc


def _objects_to_items(objects: Iterator) -> Iterator[BuildLine | BuiltImage]:
    for obj in objects:
        if not isinstance(obj, dict):
            yield BuildLine(str(obj))
            continue
        if "error" in obj or "errorDetail" in obj:
            detail = obj.get("errorDetail") or {}
            message = detail.get("message") if isinstance(detail, dict) else None
            raise BuildFailed(_plain(message or obj.get("error") or "the engine reported a build error").strip())
        if "stream" in obj:
            for line in _plain(str(obj["stream"])).splitlines():
                if line.strip():
                    yield BuildLine(line.rstrip())
        elif "status" in obj:
            yield BuildLine(" ".join(str(obj[k]) for k in ("status", "progress") if obj.get(k)))
        aux = obj.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            yield BuiltImage(str(aux["ID"]))


def _as_text(chunks: Iterable[bytes | str]) -> Iterator[str]:
    # An incremental decoder keeps a multi-byte character split across two
    # chunks intact, where decoding each chunk on its own would garble it.
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    for chunk in chunks:
        yield decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail

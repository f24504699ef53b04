"""Which env file the stack uses.

One order everywhere: `--config FILE` if given, else the first of
`.nasiko.env`, `.nasiko-local.env`, `.env` in the project folder, else none.
The chosen file is handed to Compose (`--env-file`), and Compose alone
interprets it: python-dotenv and Compose disagree on empty values, `$VAR`
references and single quotes, so this module never parses values itself.
"""

import codecs
from dataclasses import dataclass
from pathlib import Path

from .errors import NasikoError

CANDIDATES = (".nasiko.env", ".nasiko-local.env", ".env")


@dataclass(frozen=True)
class EnvChoice:
    path: Path | None
    reason: str  # how it was chosen, for `status` and error messages

    @property
    def compose_arg(self) -> str:
        # No file at all must mean no file: Compose would otherwise read .env.
        return str(self.path) if self.path else "/dev/null"


def choose_env_file(root: Path, explicit: str | Path | None = None) -> EnvChoice:
    """Pick the env file by the documented order."""
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = Path.cwd() / path
        if not path.is_file():
            problem = "is not a regular file" if path.exists() else "does not exist"
            raise NasikoError(
                f"env file {explicit} {problem}",
                hint="pass an existing file to --config, or copy .env.local.example to .nasiko.env",
            )
        check_shape(path)
        return EnvChoice(path.resolve(), "--config")
    for name in CANDIDATES:
        candidate = root / name
        if candidate.is_file():
            check_shape(candidate)
            return EnvChoice(candidate, f"first found of {', '.join(CANDIDATES)}")
    return EnvChoice(None, "no env file found: built-in defaults")


def check_shape(path: Path) -> None:
    """Refuse what Compose would reject with no file or line in its message:
    bytes that are not text, and a line with a value but no name (`=x`).
    Values are never read here (Compose interprets them)."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NasikoError(f"env file {path} is not text: line {line} holds bytes that are not UTF-8",
                          hint="give --config a text file of NAME=value lines (see .env.local.example)") from None
    open_quote = None  # inside a quoted value that spans lines (Compose allows them)
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote:
            open_quote = None if open_quote in line else open_quote
            continue
        if line.strip().startswith("="):
            raise NasikoError(f"env file {path}, line {number}: a value with no name ({line.strip()[:40]!r})",
                              hint="write NAME=value, or delete the line")
        value = line.partition("=")[2].lstrip()
        if value[:1] in ("'", '"') and value[0] not in value[1:]:
            open_quote = value[0]

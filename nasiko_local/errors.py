"""The one error type users see.

Every failure a person can act on is raised as NasikoError with a message
(what is wrong) and a hint (how to fix it). The task layer prints both and
exits non-zero; anything else is a bug and keeps its traceback.
"""


class NasikoError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

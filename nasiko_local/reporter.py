"""Where long operations report progress.

The library calls a Reporter; the task layer picks one: a person gets the
rich console (console.ConsoleReporter), `--json` and tests get a silent one
that only records.
"""

from typing import Protocol

from .containers import ContainerState


class Reporter(Protocol):
    live: bool  # True when output may stream straight to the terminal (builds)

    def step(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def service(self, state: ContainerState, elapsed: float) -> None: ...


class SilentReporter:
    """Records what happened, prints nothing: for --json, tests and CI."""

    live = False

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.warnings: list[str] = []
        self.transitions: list[tuple[str, str, float]] = []

    def step(self, message: str) -> None:
        self.steps.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def service(self, state: ContainerState, elapsed: float) -> None:
        self.transitions.append((state.name, state.label, elapsed))

"""How results look to a person (rich) or a machine (JSON)."""

import json
import sys
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .containers import ContainerState
from .errors import NasikoError
from .status import Row, StackStatus

STATE_STYLES = {"healthy": "green", "running": "green", "starting": "yellow", "created": "yellow",
                "unhealthy": "red", "exited": "red", "dead": "red", "restarting": "red", "missing": "dim",
                "disabled": "dim"}

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


class ConsoleReporter:
    """Progress for a person: one line per step and per service state change."""

    live = True

    def step(self, message: str) -> None:
        console.print(f"[bold cyan]>[/] {escape(message)}")

    def warn(self, message: str) -> None:
        console.print(f"[yellow]![/] {escape(message)}")

    def service(self, state: ContainerState, elapsed: float) -> None:
        style = STATE_STYLES.get(state.label, "")
        console.print(f"  {state.name:<24} [{style}]{state.label:<10}[/] [dim]{elapsed:5.1f}s[/]")


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _state(row: Row) -> str:
    label = row.health or row.state if row.state == "running" else row.state
    return f"[{STATE_STYLES.get(label, '')}]{label}[/]"


def status_table(status: StackStatus, title: str = "nasiko stack") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("service", "state", "port", "url", "image", "uptime"):
        table.add_column(column)
    for row in [*status.services, *status.agents]:
        name = row.name if row.kind == "service" else f"{row.name} [dim](agent)[/]"
        table.add_row(name, _state(row), str(row.host_port or "-"), row.url or "-", row.image or "-",
                      _uptime(row.uptime_seconds))
    return table


def print_status(status: StackStatus, as_json: bool = False, title: str = "nasiko stack") -> None:
    if as_json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        console.print(status_table(status, title))


def print_error(error: NasikoError, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"error": error.message, "hint": error.hint}), file=sys.stdout)
        return
    errors.print(f"[bold red]error:[/] {escape(error.message)}")
    if error.hint:
        errors.print(f"[bold]hint:[/] {escape(error.hint)}")


class DeployProgress:
    """Live deploy progress: one line per stage, a dim tail of build-log lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()

    def __call__(self, event: dict) -> None:
        elapsed = time.monotonic() - self.started
        kind, message = event.get("kind"), escape(str(event.get("message", "")))
        if kind == "log":
            if message.strip():
                console.print(f"    [dim]{message.rstrip()[:200]}[/]")
        elif kind == "result":
            style = "green" if event.get("status") == "running" else "red"
            console.print(f"[{style}]{event.get('status')}[/] {message} [dim]{elapsed:5.1f}s[/]")
        else:
            console.print(f"[bold cyan]>[/] {event.get('stage', '')}: {message} [dim]{elapsed:5.1f}s[/]")


def print_deployed(result) -> None:
    console.print(f"\n[green]{escape(result.name)} is running[/] ({result.duration_s:.1f}s)")
    console.print(f"  gateway:  {result.url}")
    console.print(f"  card:     {result.url}.well-known/agent-card.json")
    console.print(f"  registry: {result.registry_url}")
    if result.image:
        console.print(f"  image:    {result.image}")

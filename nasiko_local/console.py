"""How results look to a person (rich) or a machine (JSON)."""

import json
import re
import sys
import time

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .containers import ContainerState
from .errors import NasikoError
from .status import Row, StackStatus

STATE_STYLES = {"healthy": "green", "running": "green", "starting": "yellow", "created": "yellow",
                "unhealthy": "red", "exited": "red", "dead": "red", "restarting": "red", "missing": "dim",
                "disabled": "dim"}

# Into a pipe or a CI log a line stays one line (no wrapping at 80 columns).
console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
errors = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())


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
    """Services, then agents below a rule. URLs are never cut: on a narrow
    terminal the image column goes first."""
    rows = [*status.services, *status.agents]
    wide = console.width >= 120
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    table.add_column("service", no_wrap=True, min_width=max(len(r.name) for r in rows) if rows else None)
    table.add_column("state", no_wrap=True, min_width=9)
    table.add_column("port", no_wrap=True, min_width=5)
    table.add_column("url", no_wrap=True, min_width=max((len(r.url or "") for r in rows), default=0))
    if wide:
        table.add_column("image", overflow="fold")
    table.add_column("uptime", no_wrap=True, min_width=6)
    for index, row in enumerate(rows):
        if row.kind == "agent" and (index == 0 or rows[index - 1].kind != "agent"):
            table.add_section()
        # A switched-off part listens nowhere; --json still says which port it would take.
        port = "-" if row.state == "disabled" else str(row.host_port or "-")
        cells = [row.name, _state(row), port, row.url or "-"]
        if wide:
            cells.append(row.image or "-")
        table.add_row(*cells, _uptime(row.uptime_seconds))
    if status.agents:
        images = "" if wide else "widen the terminal for images; "
        table.caption = f"agents: the last rows; {images}--json for all"
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


# The classic builder's bookkeeping lines: nothing a person acts on.
_BUILD_NOISE = re.compile(r"^\s*(---> |Removing intermediate container|Running in |Successfully tagged)")


class DeployProgress:
    """Live deploy progress: one line per stage, a dim tail of build-log lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()

    def __call__(self, event: dict) -> None:
        elapsed = time.monotonic() - self.started
        kind, message = event.get("kind"), escape(str(event.get("message", "")))
        if kind == "log":
            if message.strip() and not _BUILD_NOISE.match(message):
                console.print(f"    [dim]{message.rstrip()[:200]}[/]")
        elif kind == "result":
            style = "green" if event.get("status") == "running" else "red"
            console.print(f"[{style}]{event.get('status')}[/] {message} [dim]{elapsed:5.1f}s[/]")
        else:
            console.print(f"[bold cyan]>[/] {event.get('stage', '')}: {message} [dim]{elapsed:5.1f}s[/]")


def print_deployed(result, *, gateway: bool = True, network_ip: str | None = None) -> None:
    """Where the agent answers. Without the gateway: its address on the stack
    network, and (on Linux, where the host reaches that network) its IP."""
    console.print(f"\n[green]{escape(result.name)} is running[/] ({result.duration_s:.1f}s)")
    if gateway:
        console.print(f"  gateway:  {result.url}")
        console.print(f"  card:     {result.url}.well-known/agent-card.json")
    else:
        console.print("  gateway:  off (NASIKO_GATEWAY=off): no localhost:9100 route")
        console.print(f"  network:  http://{escape(result.name)}:5000/ (from containers on nasiko-network)")
        if network_ip:
            console.print(f"  host:     http://{network_ip}:5000/.well-known/agent-card.json (Linux hosts)")
    console.print(f"  registry: {result.registry_url}")
    if result.image:
        console.print(f"  image:    {result.image}")

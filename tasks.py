"""Tasks for the Nasiko local stack. `invoke --list` shows them; `invoke --help TASK` explains one.

Each task is a thin shell over a plain function in nasiko_local/ (tests and CI
call those directly). Failures a person can act on end with `error:` and
`hint:` lines and a non-zero exit.
"""

import functools
import json as jsonlib
import sys

from invoke import Context, Exit, task

from nasiko_local import agents, console, deploy, images, stack
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter

CONFIG_HELP = "env file to use (default: first of .nasiko.env, .nasiko-local.env, .env)"


def _reporter(as_json: bool):
    return SilentReporter() if as_json else console.ConsoleReporter()


def friendly_errors(func):
    """Turn NasikoError into `error:`/`hint:` lines and exit code 1."""

    @functools.wraps(func)
    def wrapper(c, *args, **kwargs):
        try:
            return func(c, *args, **kwargs)
        except NasikoError as error:
            console.print_error(error, as_json=kwargs.get("json", False))
            raise Exit(code=1) from None
        except BrokenPipeError:
            # Output piped into `head` that stopped reading: not an error of ours.
            sys.stderr.close()
            raise Exit(code=0) from None

    return wrapper


def _number(value, option: str, minimum: int = 0) -> int:
    """A whole number of at least `minimum` from the command line, or a clear error."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if number < minimum:
        raise NasikoError(f"{option} takes a whole number ({minimum} or more), not {value!r}",
                          hint=f"e.g. {option} 20")
    return number


def _seconds(value, option: str, default: int) -> int:
    """A timeout in seconds: the default when not given, else at least 1."""
    return default if value is None else _number(value, option, minimum=1)


def _services(values) -> list[str]:
    """`-s a -s b` and `-s a,b` both mean [a, b]."""
    return [name for value in values or [] for name in value.split(",") if name]


@task(help={"config": CONFIG_HELP, "build": "rebuild the platform images first",
            "no_build": "never build: use published images only (default: pull what is published, build the rest)",
            "attach": "stay in the foreground with logs",
            "dev": "leave out observability (LangTrace)", "timeout": "seconds to wait for health (default 300)",
            "json": "print the final status as JSON"})
@friendly_errors
def up(c: Context, config=None, build=False, no_build=False, attach=False, dev=False, timeout=None, json=False):
    """Start the whole stack and wait until every service is healthy."""
    if build and no_build:
        raise NasikoError("--build and --no-build contradict each other", hint="pass one of them")
    project = stack.load_stack(config, dev=dev)
    choice = True if build else False if no_build else None
    wait = _seconds(timeout, "--timeout", 300)
    result = stack.up(project, _reporter(json), build=choice, attach=attach, timeout=wait)
    console.print_status(result, as_json=json, title="after the foreground run" if attach else "nasiko stack is up")


@task(help={"config": CONFIG_HELP, "volumes": "also delete the data volumes (asks first)",
            "yes": "do not ask before deleting volumes", "json": "print the result as JSON"})
@friendly_errors
def down(c: Context, config=None, volumes=False, yes=False, json=False):
    """Stop the stack and every agent container the worker started."""
    if volumes and not yes:
        if not sys.stdin.isatty():
            raise NasikoError("--volumes deletes MongoDB, Redis and upload data; refusing without confirmation",
                              hint="add --yes to confirm")
        question = "Delete every stack data volume (MongoDB, Redis, agent uploads, gateway config, tracing)? [y/N] "
        if input(question).strip().lower() not in ("y", "yes"):
            raise Exit("nothing deleted or stopped", code=1)
    result = stack.down(stack.load_stack(config), _reporter(json), volumes=volumes)
    if json:
        print(jsonlib.dumps(result.__dict__))
    if result.leftovers:
        raise NasikoError(f"left behind: {', '.join(result.leftovers)}", hint="remove them with docker rm/network rm")


@task(help={"config": CONFIG_HELP, "json": "machine-readable output (schema nasiko.status/v1)",
            "dev": "as started with --dev"})
@friendly_errors
def status(c: Context, config=None, json=False, dev=False):
    """Show every service and agent: state, health, port, URL, image, uptime."""
    console.print_status(stack.status(stack.load_stack(config, dev=dev)), as_json=json)


@task(iterable=["service"], help={"config": CONFIG_HELP, "service": "service or agent (repeat, or comma-separate)",
                                  "follow": "keep following", "n": "only the last N lines of each log",
                                  "timestamps": "show timestamps"})
@friendly_errors
def logs(c: Context, service=None, follow=False, n=None, timestamps=False, config=None):
    """Show the logs of the stack, some services (-s NAME), or one agent."""
    project = stack.load_stack(config)
    command = stack.logs_command(project, _services(service), follow=follow,
                                 tail=_number(n, "-n") if n is not None else None, timestamps=timestamps)
    raise Exit(code=stack.run_attached(command))


@task(help={"config": CONFIG_HELP, "service": "recreate only this service (default: all)",
            "dev": "as started with --dev", "json": "print the final status as JSON"})
@friendly_errors
def restart(c: Context, service=None, config=None, dev=False, json=False):
    """Recreate one service alone, or every service, and wait for health."""
    result = stack.restart(stack.load_stack(config, dev=dev), _reporter(json), service)
    console.print_status(result, as_json=json, title="restarted")


@task(help={"config": CONFIG_HELP, "service": "a running service"})
@friendly_errors
def shell(c: Context, service, config=None):
    """Open an interactive shell in a running service (bash if present, else sh)."""
    raise Exit(code=stack.run_attached(stack.shell_command(stack.load_stack(config), service)))


@task(iterable=["service"], help={"config": CONFIG_HELP, "service": "build only these (repeat or comma-separate)"})
@friendly_errors
def build(c: Context, service=None, config=None):
    """Build the platform images as {NASIKO_REGISTRY_URL}/{service}:{NASIKO_VERSION}."""
    built = images.build_images(stack.load_stack(config), console.ConsoleReporter(), _services(service))
    console.console.print("built: " + ", ".join(built))


@task(iterable=["service"], help={"config": CONFIG_HELP, "service": "push only these (repeat or comma-separate)"})
@friendly_errors
def push(c: Context, service=None, config=None):
    """Publish the platform images to NASIKO_REGISTRY_URL (others then start with --no-build)."""
    pushed = images.push_images(stack.load_stack(config), console.ConsoleReporter(), _services(service))
    console.console.print("pushed: " + ", ".join(pushed))


@task(help={"name": "agent name (a DNS label); the folder defaults to agents/NAME",
            "path": "agent folder (default: agents/NAME)", "config": CONFIG_HELP,
            "timeout": "seconds to wait for the agent to be ready (default 1800)",
            "json": "print the result as JSON"})
@friendly_errors
def deploy_agent(c: Context, name, path=None, config=None, timeout=None, json=False):
    """Deploy an agent folder into the running stack and follow it until it is ready."""
    project = stack.load_stack(config)
    try:
        result = agents.deploy_to_stack(project, name, path, timeout=_seconds(timeout, "--timeout", 1800),
                                        on_event=None if json else console.DeployProgress(name),
                                        warn=None if json else console.ConsoleReporter().warn)
    except deploy.DeployFailed as failure:
        if json:
            print(jsonlib.dumps(failure.result.to_dict()))
        raise
    if json:
        print(jsonlib.dumps(result.to_dict()))
    else:
        gateway = "kong" in project.services
        console.print_deployed(result, gateway=gateway, network_ip=None if gateway else stack.agent_ip(project, name))


@task(help={"name": "agent name", "config": CONFIG_HELP, "json": "print the result as JSON"})
@friendly_errors
def remove_agent(c: Context, name, config=None, json=False):
    """Remove a deployed agent: its container and companions, its route and its registry record
    (its named volumes stay until `invoke down --volumes`)."""
    result = agents.remove_from_stack(stack.load_stack(config), name,
                                      on_event=None if json else console.DeployProgress(name))
    if json:
        print(jsonlib.dumps(result.to_dict()))
    else:
        console.console.print(f"[green]removed[/] {name} ({result.duration_s:.1f}s)")

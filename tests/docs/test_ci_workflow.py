"""docs/ci/github-actions.yml: the example CI workflow does what the guide says,
and the Python API the guide shows CI using exists as shown."""

import dataclasses
import inspect

import pytest
import yaml

import nasiko_local.smoke
from nasiko_local import deploy, stack
from nasiko_local.status import StackStatus

from .doc_commands import GUIDE, WORKFLOW, Command, check, commands_in
from .envvars import ROOT


def _workflow_steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_example_workflow_runs_up_smoke_and_always_down():
    steps = _workflow_steps()
    runs = [step.get("run", "") for step in steps]
    order = [next(i for i, r in enumerate(runs) if needle in r)
             for needle in ("pip install -r requirements.txt", "invoke up", "nox -s smoke", "invoke down")]
    assert order == sorted(order), "install, up, smoke, down must run in this order"
    down = steps[order[-1]]
    assert "--volumes --yes" in down["run"] and down.get("if") == "always()"
    assert any("setup-python" in step.get("uses", "") for step in steps)


def test_example_workflow_keeps_the_smoke_report_even_when_smoke_fails():
    upload = next(s for s in _workflow_steps() if "upload-artifact" in s.get("uses", ""))
    assert upload.get("if") == "always()"
    assert upload["with"]["path"] == "reports/smoke.json"
    assert "default reports/smoke.json" in nasiko_local.smoke.__doc__, "the smoke report moved: update the workflow"


@pytest.mark.parametrize("command", [c for step in _workflow_steps() if "run" in step
                                     for c in commands_in(step["run"], f"{WORKFLOW.name}:{step.get('name')}")],
                         ids=str)
def test_example_workflow_command_is_valid(command: Command):
    problem = check(command)
    assert problem is None, f"{command}\n  {problem}"


def test_the_guide_documents_the_example_workflow():
    assert str(WORKFLOW.relative_to(ROOT)) in GUIDE.read_text()


def test_the_python_api_shown_for_ci_has_the_parameters_and_fields_the_guide_uses():
    assert "timeout" in inspect.signature(stack.up).parameters
    assert "volumes" in inspect.signature(stack.down).parameters
    assert {"all_ready", "to_json"} <= set(dir(StackStatus))
    assert "services" in {f.name for f in dataclasses.fields(StackStatus)}
    assert [f.name for f in dataclasses.fields(stack.DownResult)] == ["agents_removed", "volumes_removed", "leftovers"]
    assert list(inspect.signature(deploy.deploy_agent).parameters)[:2] == ["name", "path"]
    assert "name" in inspect.signature(deploy.remove_agent).parameters


def test_the_projects_own_ci_runs_nox_commands_that_exist():
    ci = (ROOT / ".ci" / "run").read_text()
    # `python3 -m nox ...` is `nox ...` without relying on a console-script shim.
    commands = [c for c in commands_in(ci.replace("python3 -m nox ", "nox "), ".ci/run") if c.argv[:1] == ["nox"]]
    assert commands, ".ci/run runs no nox session"
    problems = [f"{c}: {problem}" for c in commands if (problem := check(c))]
    assert not problems, "\n".join(problems)

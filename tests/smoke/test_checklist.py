"""The smoke checklist's bookkeeping: honest outcomes, counts and exit code."""

import json

from nasiko_local import smoke
from nasiko_local.errors import NasikoError
from nasiko_local.smoke import FAILED, NOT_RUN, PASSED, Checklist, NotRun


class Scripted(Checklist):
    """The real runner over scripted checks, so each outcome can be forced."""

    def __init__(self, outcomes: dict) -> None:
        super().__init__(project=None)
        self.outcomes = outcomes

    def checks(self):
        def make(name, behaviour):
            def check():
                if behaviour == "needs-first":
                    self._needs("first")
                    return {}
                if isinstance(behaviour, Exception):
                    raise behaviour
                return behaviour
            return check
        return [(name, f"title of {name}", make(name, b)) for name, b in self.outcomes.items()]


def test_a_not_run_check_is_never_counted_as_passed():
    report = Scripted({"first": {"ok": 1}, "gateway": NotRun("no Kong image on this machine")}).run()
    assert [c.outcome for c in report.checks] == [PASSED, NOT_RUN]
    assert report.count(PASSED) == 1 and report.count(NOT_RUN) == 1
    assert report.ok, "not-run alone does not fail the run"
    assert report.checks[1].reason == "no Kong image on this machine"


def test_a_check_depending_on_a_failed_one_is_not_run_with_the_reason():
    report = Scripted({"first": NasikoError("boom", hint="fix it"), "second": "needs-first"}).run()
    assert [c.outcome for c in report.checks] == [FAILED, NOT_RUN]
    assert "boom" in report.checks[0].reason and "fix it" in report.checks[0].reason
    assert report.checks[1].reason == "needs check 'first', which did not pass"
    assert not report.ok


def test_an_assertion_inside_a_check_is_a_failure_with_its_message():
    report = Scripted({"first": AssertionError("status was 503")}).run()
    assert report.checks[0].outcome == FAILED
    assert report.checks[0].reason == "AssertionError: status was 503"


def test_report_json_has_schema_summary_and_every_check_in_order():
    report = Scripted({"a": {}, "b": NotRun("why"), "c": AssertionError("x")}).run()
    document = json.loads(json.dumps(report.to_json()))
    assert document["schema"] == "nasiko.smoke/v1"
    assert document["summary"] == {"passed": 1, "failed": 1, "not_run": 1}
    assert [c["name"] for c in document["checks"]] == ["a", "b", "c"]
    assert document["ok"] is False


def test_the_documented_checks_come_in_the_documented_order():
    names = [name for name, _, _ in Checklist(project=None).checks()]
    assert names == ["docker", "images", "up", "status", "logs", "gateway-status", "backend", "deploy",
                     "registry", "gateway-route", "down"]


def test_a_broken_env_file_exits_2_with_the_compose_message(tmp_path, capsys):
    broken = tmp_path / "broken.env"
    broken.write_text("this is not an assignment\n")
    assert smoke.main(["--config", str(broken), "--report", str(tmp_path / "r.json")]) == 2
    assert "line 1" in capsys.readouterr().err

"""Each Kong rule the registry checks before pushing, with the error Kong would
give. Sources: Kong 3.x `kong/db/schema/typedefs.lua` (validate_utf8_name,
router_path, validate_path_with_regexes, validate_path) and the declarative
loader's uniqueness check. An agent that breaks a rule is left out, with the
reason; every other agent keeps its route.
"""

import pytest

from nasiko_registry.render import RouteTarget
from nasiko_registry.validate import (
    dns_label_error,
    kong_name_error,
    normalize,
    plan_routes,
    router_path_error,
)


def target(name: str) -> RouteTarget:
    return RouteTarget(name, name, 5000)


@pytest.mark.parametrize("name", ["weather", "Weather_1", "a.b-c~d"])
def test_names_with_letters_digits_dot_dash_underscore_tilde_pass(name):
    assert kong_name_error(name) is None


@pytest.mark.parametrize("name", ["wea ther", "weather/x", "weather:1", ""])
def test_other_characters_in_names_fail_with_kongs_message(name):
    # Kong: "invalid value '<name>': the only accepted ascii characters are
    # alphanumerics or ., -, _, and ~"
    assert kong_name_error(name) == (
        f"invalid value '{name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
    )


def test_path_must_start_with_a_slash_or_tilde_slash():
    # Kong (router_path match_any): "should start with: / (fixed path) or ~/ (regex path)"
    assert router_path_error("weather/") == "should start with: / (fixed path) or ~/ (regex path)"
    assert router_path_error("~weather$") == "should start with: / (fixed path) or ~/ (regex path)"


def test_path_must_not_have_empty_segments():
    # Kong (router_path match_none "//"): "must not have empty segments"
    assert router_path_error("/agents//weather") == "must not have empty segments"


def test_path_must_be_normalised():
    # Kong (validate_path_with_regexes): "non-normalized path, consider use '<p>' instead"
    assert router_path_error("/agents/./weather") == (
        "non-normalized path, consider use '/agents/weather' instead"
    )
    assert router_path_error("/agents/x/../weather") == (
        "non-normalized path, consider use '/agents/weather' instead"
    )
    # %7E is `~`, an unreserved character: Kong wants it decoded.
    assert router_path_error("/%7Eweather/") == "non-normalized path, consider use '/~weather/' instead"


def test_percent_signs_must_start_a_valid_escape():
    # Kong (validate_path): "invalid url-encoded value: '<bad>'"
    assert router_path_error("/weather%zz/") == "invalid url-encoded value: '%zz'"


def test_a_plain_path_with_regex_characters_is_refused_as_an_accidental_regex():
    # Kong 3 accepts it and matches it literally (regex paths need `~` since
    # 3.0), so nothing would ever match what the author meant.
    error = router_path_error("/weather.*")
    assert error is not None and "no '~' prefix" in error


def test_a_regex_path_must_compile():
    # Kong: "invalid regex: '<re>' (PCRE returned: <why>)"
    error = router_path_error("~/wea(ther$")
    assert error is not None and error.startswith("invalid regex: '/wea(ther$' (PCRE returned:")
    assert router_path_error("~/weather$") is None


def test_the_registrys_own_paths_pass_every_rule():
    for path in ("~/weather$", "/weather/", "/api/", "~/status$"):
        assert router_path_error(path) is None


def test_normalize_follows_kong_on_dots_slashes_and_escapes():
    assert normalize("/a/b/..") == "/a/"
    assert normalize("/a//b") == "/a/b"
    assert normalize("/a/%2Fb") == "/a/%2Fb"  # reserved: stays encoded
    assert normalize("/weather/") == "/weather/"


def test_duplicate_names_leave_the_second_one_out_with_kongs_uniqueness_message():
    # Kong (declarative loader): "uniqueness violation: 'services' entity with
    # name set to '<name>' already declared"
    plan = plan_routes([target("weather"), target("weather")])
    assert [t.name for t in plan.routed] == ["weather"]
    assert plan.excluded["weather"].startswith(
        "uniqueness violation: 'services' entity with name set to 'weather' already declared"
    )


def test_an_agent_named_like_a_platform_service_is_left_out():
    plan = plan_routes([target("nasiko-backend"), target("weather")])
    assert [t.name for t in plan.routed] == ["weather"]
    assert "uniqueness violation: 'services' entity with name set to 'nasiko-backend'" in (
        plan.excluded["nasiko-backend"])


def test_an_agent_whose_path_is_a_platform_route_is_left_out():
    plan = plan_routes([target("api"), target("status")])
    assert plan.routed == []
    assert "platform route of 'nasiko-backend'" in plan.excluded["api"]
    assert "platform route of 'kong-service-registry'" in plan.excluded["status"]


def test_one_invalid_agent_does_not_take_the_others_routes_down():
    plan = plan_routes([target("weather"), target("bad name"), target("news"), target("Upper_Case")])
    assert [t.name for t in plan.routed] == ["news", "weather"]
    assert "the only accepted ascii characters" in plan.excluded["bad name"]
    # Passes Kong's name rule, but is no host name: our contract rule.
    assert "is not a DNS label" in plan.excluded["Upper_Case"]


def test_dns_label_rule_accepts_the_worker_names_and_refuses_others():
    assert dns_label_error("crewai-2") is None
    assert dns_label_error("-lead") is not None
    assert dns_label_error("a" * 64) is not None

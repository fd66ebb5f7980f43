"""Spec parsing: strict camelCase, clear errors that name file, channel and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gcwm.errors import SpecError
from gcwm.spec import load_spec, parse_spec

EXAMPLES = Path(__file__).parents[2] / "examples"

VALID = """
channels:
  - name: support-web
    routingQueue: Support
    inboundMessageFlow: {name: Support Messaging Flow}
    allowedDomains: [example.com]
"""


def test_examples_are_valid_specs() -> None:
    """The shipped examples parse: one channel and twenty."""
    assert len(load_spec(EXAMPLES / "channel.yaml")) == 1
    assert len(load_spec(EXAMPLES / "bulk.yaml")) == 20


def test_defaults_fill_messenger_settings() -> None:
    """A minimal channel gets Genesys-valid messenger defaults."""
    (channel,) = parse_spec(VALID)
    assert channel.routing_queue.name == "Support"
    assert channel.messenger.default_language in channel.messenger.languages
    assert channel.messenger.launcher_visibility == "On"


def test_unknown_key_is_named_with_file_channel_and_path() -> None:
    """A misspelt key is refused with its full location."""
    text = VALID + "    messenger: {primaryColour: '#000000'}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, source="specs/web.yaml")
    assert (
        "specs/web.yaml:7: channel 'support-web': messenger.primaryColour: unknown key; "
        "did you mean 'primaryColor'?"
    ) in str(err.value)


def test_every_problem_is_reported_at_once() -> None:
    """Several bad fields give several lines, not just the first."""
    text = VALID + "    messenger: {primaryColor: red, launcherVisibility: Sometimes}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, source="s.yaml")
    assert len(err.value.problems) == 2
    assert "'red' is not a hex colour" in str(err.value)
    assert "'Sometimes'" in str(err.value)


def test_yaml_on_is_read_as_the_enum_value() -> None:
    """`launcherVisibility: On` means the enum value, not YAML's boolean."""
    (channel,) = parse_spec(VALID + "    messenger: {launcherVisibility: Off}\n")
    assert channel.messenger.launcher_visibility == "Off"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    security: {allowAllDomains: true}\n", "allowedDomains must be empty"),
        ("    messenger: {languages: [en-us], defaultLanguage: fr}\n", "defaultLanguage 'fr'"),
        ("    itsm: {type: email, url: https://x.example}\n", "itsm.type"),
    ],
)
def test_inconsistent_settings_are_refused(extra: str, expected: str) -> None:
    """Cross-field rules fail with a message saying what would be accepted."""
    with pytest.raises(SpecError, match=expected):
        parse_spec(VALID + extra)


def test_duplicate_channel_names_are_refused() -> None:
    """Two channels with one name would fight over one deployment."""
    text = VALID + VALID.split("channels:\n", 1)[1]
    with pytest.raises(SpecError, match="given twice"):
        parse_spec(text)


def test_broken_yaml_names_line_and_column() -> None:
    """A syntax error points at where it is."""
    with pytest.raises(SpecError, match=r"x.yaml:2: column \d+: not valid YAML"):
        parse_spec("channels: [\n  - {", source="x.yaml")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    """A path that does not exist is reported, not a traceback."""
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(tmp_path / "nope.yaml")


THREE_MISTAKES = """channels:
  - name: web
    routingQueue: Support
    inboundMessageFlow: Support Messaging Flow
    alowedDomains: [example.com]
    messenger:
      languages: [en-us]
      defaultLanguage: fr
  - name: shop
    routingQueue: Support
    inboundMessageFlow: Support Messaging Flow
    allowedDomains: [shop.example.com]
  - name: Web
    routingQueue: Support
    inboundMessageFlow: Support Messaging Flow
    allowedDomains: [example.org]
"""


def test_every_spec_mistake_is_reported_in_one_run_with_its_line() -> None:
    """A misspelt key, a defaultLanguage outside languages and a duplicated name: three problems at
    once, each `FILE:LINE: channel 'x': field: message`, in the order of the file."""
    with pytest.raises(SpecError) as err:
        parse_spec(THREE_MISTAKES, source="brands.yaml")
    assert [str(p) for p in err.value.problems] == [
        "brands.yaml:5: channel 'web': alowedDomains: unknown key; did you mean 'allowedDomains'?",
        "brands.yaml:8: channel 'web': messenger.defaultLanguage: defaultLanguage 'fr' is not one of "
        "languages ['en-us']",
        "brands.yaml:13: channel 'Web': name: the name 'Web' is given twice: also at line 2 (as 'web'); "
        "channel names compare case-insensitively, and each channel needs its own",
    ]
    assert [p.line for p in err.value.problems] == [5, 8, 13]


def test_the_json_of_a_spec_error_keeps_its_keys_and_adds_the_line() -> None:
    """`--output json` of a spec error: source, location (the channel and field path), problem, line."""
    with pytest.raises(SpecError) as err:
        parse_spec(VALID + "    messenger: {primaryColor: blue}\n", source="web.yaml")
    (problem,) = err.value.to_dict()["problems"]  # type: ignore[misc]
    assert problem == {
        "source": "web.yaml",
        "location": "channel 'support-web': messenger.primaryColor",
        "problem": "'blue' is not a hex colour like #FF4F1F",
        "line": 7,
    }


@pytest.mark.parametrize(
    ("key", "suggested"),
    [
        ("allowed_domains", "allowedDomains"),
        ("AllowedDomains", "allowedDomains"),
        ("routingQeue", "routingQueue"),
        ("inboundMessageFlows", "inboundMessageFlow"),
    ],
)
def test_an_unknown_key_suggests_the_closest_known_one(key: str, suggested: str) -> None:
    """snake_case, another case or a typo: the key the model knows at that place."""
    with pytest.raises(SpecError) as err:
        parse_spec(VALID + f"    {key}: x\n", source="s.yaml")
    assert f"{key}: unknown key; did you mean {suggested!r}?" in str(err.value)


def test_an_unknown_key_with_nothing_close_says_keys_are_camel_case() -> None:
    """No guess is better than a wrong one."""
    with pytest.raises(SpecError, match=r"zzz: unknown key \(check spelling; keys are camelCase\)"):
        parse_spec(VALID + "    zzz: 1\n", source="s.yaml")


def test_a_missing_key_points_at_the_channel_that_lacks_it() -> None:
    """No line holds a missing key: the problem names the line where its channel begins."""
    with pytest.raises(SpecError) as err:
        parse_spec("channels:\n  - name: web\n    routingQueue: Support\n", source="s.yaml")
    assert "s.yaml:2: channel 'web': inboundMessageFlow: required key is missing" in str(err.value)


def test_a_document_without_text_has_problems_without_lines() -> None:
    """The API's JSON body has no lines: the problems say where by field path alone."""
    from gcwm.spec import parse_spec_document

    with pytest.raises(SpecError) as err:
        parse_spec_document({"channels": [{"name": "web", "routingQueue": "Support"}]}, source="request")
    assert [(p.location, p.line) for p in err.value.problems] == [("channel 'web': inboundMessageFlow", None)]
    assert str(err.value.problems[0]) == "request: channel 'web': inboundMessageFlow: required key is missing"

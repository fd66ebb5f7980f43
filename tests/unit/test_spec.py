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
    assert "specs/web.yaml: channels[0] (support-web): messenger.primaryColour: unknown key" in str(err.value)


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
    with pytest.raises(SpecError, match="appears twice"):
        parse_spec(text)


def test_broken_yaml_names_line_and_column() -> None:
    """A syntax error points at where it is."""
    with pytest.raises(SpecError, match=r"x.yaml: line \d+, column \d+"):
        parse_spec("channels: [\n  - {", source="x.yaml")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    """A path that does not exist is reported, not a traceback."""
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(tmp_path / "nope.yaml")

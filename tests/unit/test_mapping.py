"""Markers: gcwm recognises its own objects by a tag that names the channel without loss."""

from __future__ import annotations

import pytest

from gcwm.provisioning.mapping import Marker, read_marker


@pytest.mark.parametrize("name", ["web one", "web_one", "Web One", "a.b-c_d 9", "x"])
def test_marker_round_trips_the_exact_name(name: str) -> None:
    """What is written is read back as the same name, inside any description text."""
    marker = Marker(name, "0f1e2d3c-aaaa")
    assert read_marker(f"Support chat {marker.render()}") == marker


def test_names_differing_by_space_or_underscore_get_different_markers() -> None:
    """The seed mapped space to `_`, so `web one` and `web_one` shared objects."""
    spaced, underscored = Marker("web one", "1"), Marker("web_one", "1")
    assert spaced.render() != underscored.render()
    assert not spaced.is_for("web_one") and not underscored.is_for("web one")


def test_a_marker_names_the_channel_case_insensitively() -> None:
    """Genesys names are unique case-insensitively; so are channels."""
    assert Marker("Web One", "1").is_for("web one")


def test_text_without_a_marker_is_not_gcwms() -> None:
    """Objects made by people or other tools are never taken for gcwm's."""
    assert read_marker("made by hand") is None
    assert read_marker(None) is None
    assert read_marker("[gcwm channel= job=1]") is None

"""README.md documents every environment variable gcwm reads, and the commands it offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices

from gcwm.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def _variables() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
    return names


def test_every_setting_is_in_the_readme() -> None:
    """A variable nobody can find in the docs is a variable nobody sets right."""
    variables = _variables()
    assert "GCWM_DATABASE_URL" in variables
    missing = sorted(name for name in variables if f"`{name}`" not in README)
    assert missing == []


def test_readme_gives_the_fresh_machine_commands() -> None:
    """One command runs the main job against the embedded emulator, one runs the tests."""
    assert ".venv/bin/gcwm provision examples/channel.yaml" in README
    assert ".venv/bin/pytest" in README


def test_only_documented_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """$HOME, $REGION and friends never leak into settings named home, region..."""
    for name in ("HOME", "REGION", "CONCURRENCY", "ACTOR", "CLIENT_ID", "DATABASE_URL"):
        monkeypatch.setenv(name, "9")
    for name in _variables():
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.home.parts[-3:] == (".local", "state", "gcwm")
    assert (settings.region, settings.client_id, settings.database_url) == (None, None, None)
    assert settings.concurrency != 9 and settings.actor != "9"

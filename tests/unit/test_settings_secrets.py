"""The Genesys client secret comes from the environment or a secrets file, nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from gcwm.errors import ConfigError
from gcwm.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GCWM_SECRETS_DIR", raising=False)


def test_the_secret_is_read_from_the_secrets_dir_when_the_variable_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "GENESYSCLOUD_OAUTHCLIENT_SECRET").write_text("from-a-file\n")
    monkeypatch.setenv("GCWM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "client")
    monkeypatch.setenv("GENESYSCLOUD_REGION", "mypurecloud.ie")
    settings = load_settings()
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "from-a-file"
    assert "from-a-file" not in repr(settings)
    assert not settings.uses_embedded_emulator


def test_the_variable_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "GENESYSCLOUD_OAUTHCLIENT_SECRET").write_text("from-a-file")
    monkeypatch.setenv("GCWM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "client")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "from-the-environment")
    monkeypatch.setenv("GENESYSCLOUD_REGION", "mypurecloud.ie")
    settings = load_settings()
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "from-the-environment"


def test_a_secret_file_without_a_client_id_is_incomplete_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "GENESYSCLOUD_OAUTHCLIENT_SECRET").write_text("from-a-file")
    monkeypatch.setenv("GCWM_SECRETS_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="GENESYSCLOUD_OAUTHCLIENT_ID") as caught:
        load_settings()
    assert "from-a-file" not in caught.value.message

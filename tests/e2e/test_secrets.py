"""Secrets (the OAuth client secret, bearer tokens) never reach logs, output or the database."""

from __future__ import annotations

from pathlib import Path

from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from tests.conftest import EXAMPLES, FAST
from tests.e2e.conftest import run_gcwm

SECRET = "s3cr3t-Value-that-must-not-leak"


def test_secret_and_tokens_stay_out_of_logs_output_and_database(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """A debug-level run with faults and retries writes no secret anywhere a person or disk sees."""
    config = EmulatorConfig(**FAST, client_secret=SECRET, fault_5xx_rate=0.2, seed=3)  # type: ignore[arg-type]
    with EmbeddedEmulator(config) as server:
        env = {
            **gcwm_env,
            "GCWM_GENESYS_BASE_URL": server.url,
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": SECRET,
            "GCWM_LOG_LEVEL": "debug",
        }
        result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], env)
    assert result.code == 0, result.stderr
    assert "stamina.retry_scheduled" in result.stderr or "genesys.answered" in result.stderr
    seen = result.stdout + result.stderr
    assert SECRET not in seen
    assert "Bearer " not in seen and "access_token" not in seen
    home = Path(env["GCWM_HOME"])
    for stored in home.rglob("*"):
        if stored.is_file():
            assert SECRET.encode() not in stored.read_bytes(), stored

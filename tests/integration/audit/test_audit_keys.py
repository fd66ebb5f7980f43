"""The checkpoint signing key: made once under GCWM_HOME, or read from GCWM_AUDIT_KEY_FILE."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcwm.audit import configured_public_key, key_id, load_public_key, load_signing_key, public_key_pem
from gcwm.errors import ConfigError


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_first_use_makes_a_private_key_and_says_where_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line on stderr names the new key; it is readable by its owner only; later uses are silent."""
    home = tmp_path / "home"

    first = load_signing_key(home)
    said = capsys.readouterr()
    again = load_signing_key(home)

    path = home / "audit-key.pem"
    assert said.err == f"gcwm: created the audit signing key at {path}\n" and said.out == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert capsys.readouterr().err == ""
    assert again.key_id == first.key_id == key_id(first.public_key)
    assert len(first.key_id) == 16
    assert list(home.iterdir()) == [path]  # no temporary file left behind


def test_threads_of_one_process_making_the_key_together_all_get_the_same_one(tmp_path: Path) -> None:
    """Worker threads share a pid: each first use must still end with the one key, and no error."""
    home = tmp_path / "home"
    for round_ in range(20):
        start = threading.Barrier(8)

        def first_use(_: int, start: threading.Barrier = start, home: Path = home / str(round_)) -> str:
            start.wait()
            return load_signing_key(home).key_id

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(first_use, range(8)))
        assert len(set(ids)) == 1
        assert [p.name for p in (home / str(round_)).iterdir()] == ["audit-key.pem"]


def test_the_key_file_setting_is_read_and_nothing_is_made(tmp_path: Path) -> None:
    """GCWM_AUDIT_KEY_FILE's key signs; no key appears under the home."""
    private = Ed25519PrivateKey.generate()
    key_file = tmp_path / "mine.pem"
    key_file.write_bytes(_pem(private))

    key = load_signing_key(tmp_path / "home", key_file)

    assert key.key_id == key_id(private.public_key()) and key.path == key_file
    assert not (tmp_path / "home").exists()


def test_a_missing_or_foreign_key_file_is_a_config_error(tmp_path: Path) -> None:
    """The message names the setting and the file; gcwm never replaces a key it was pointed at."""
    with pytest.raises(ConfigError, match=r"GCWM_AUDIT_KEY_FILE .*absent\.pem: cannot read it"):
        load_signing_key(tmp_path, tmp_path / "absent.pem")
    foreign = tmp_path / "ec.pem"
    foreign.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match="not an Ed25519 private key"):
        load_signing_key(tmp_path, foreign)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signing_key(tmp_path, garbage)


def test_verifying_never_makes_a_key(tmp_path: Path) -> None:
    """Without a key there is no configured public key, and asking makes none."""
    assert configured_public_key(tmp_path / "home") is None
    assert not (tmp_path / "home").exists()


def test_the_public_key_exports_as_pem_and_reads_back(tmp_path: Path) -> None:
    """`gcwm audit key` output is what `--public-key` takes; a private key file also gives its public half."""
    key = load_signing_key(tmp_path)
    exported = tmp_path / "public.pem"
    exported.write_text(public_key_pem(key.public_key))

    assert public_key_pem(key.public_key).startswith("-----BEGIN PUBLIC KEY-----\n")
    assert key_id(load_public_key(exported)) == key.key_id
    assert key_id(load_public_key(key.path)) == key.key_id
    with pytest.raises(ConfigError, match="cannot read it"):
        load_public_key(tmp_path / "absent.pem")

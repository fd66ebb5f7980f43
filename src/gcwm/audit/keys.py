"""The Ed25519 key that signs the audit log's checkpoints (`cryptography`).

GCWM_AUDIT_KEY_FILE names a PEM (PKCS#8) Ed25519 private key that gcwm reads and never writes. Without
it gcwm keeps one at GCWM_HOME/audit-key.pem, made on first use with mode 0600 and announced with one
line on stderr; it is written to a temporary file of its own and hard-linked into place, so two processes (or
threads) starting together end up with one key, never a half-written file.

The key id is the first 16 hex digits of SHA-256 over the raw public key. It names a key; trust comes
from the public key itself, which `gcwm audit key` exports for keeping apart from the database.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gcwm.errors import ConfigError

KEY_FILE = "audit-key.pem"
#: A rotation's successor under GCWM_HOME, until the rotation is recorded and it takes KEY_FILE's place.
NEXT_KEY_FILE = "audit-key.next.pem"
_KEY_FILE_SETTING = "GCWM_AUDIT_KEY_FILE"


@dataclass(frozen=True)
class SigningKey:
    """The private key that signs checkpoints, and where it was read from."""

    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, which verifies what this key signs."""
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        """The fingerprint of the public key."""
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message` (64 bytes)."""
        return self.private_key.sign(message)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint naming a public key: SHA-256 of its raw bytes, 16 hex digits."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), for `--public-key` and outside verifiers."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode()


def load_signing_key(home: Path, key_file: Path | None = None) -> SigningKey:
    """The key named by GCWM_AUDIT_KEY_FILE (`key_file`), else GCWM_HOME's, made on first use."""
    if key_file is not None:
        return SigningKey(_read_private(key_file, _KEY_FILE_SETTING), key_file)
    path = home / KEY_FILE
    if not path.exists():
        _create(path, Ed25519PrivateKey.generate())
    return SigningKey(_read_private(path, "the audit signing key"), path)


def read_signing_key(path: Path, what: str = "key file") -> SigningKey:
    """The Ed25519 private key in a PEM file (a ConfigError naming `what` and the file if it is not)."""
    return SigningKey(_read_private(path, what), path)


def successor_key(home: Path, given: Path | None = None) -> SigningKey:
    """The key a rotation under GCWM_HOME hands over to, kept at NEXT_KEY_FILE until it is recorded:
    `given`'s key copied there, else the one a rotation that was interrupted left, else a new one."""
    path = home / NEXT_KEY_FILE
    if given is not None:
        key = read_signing_key(given, "--new-key")
        path.unlink(missing_ok=True)
        _create(path, key.private_key, announce=False)
    elif not path.exists():
        _create(path, Ed25519PrivateKey.generate(), announce=False)
    return read_signing_key(path, "the next audit signing key")


def promote_successor(home: Path) -> Path:
    """Put the recorded successor in the signing key's place (the retired private key is gone)."""
    path = home / KEY_FILE
    try:
        os.replace(home / NEXT_KEY_FILE, path)
    except OSError as exc:
        msg = f"could not move {home / NEXT_KEY_FILE} to {path}: {exc.strerror}; move it by hand"
        raise ConfigError(msg) from exc
    return path


def configured_public_key(home: Path, key_file: Path | None = None) -> Ed25519PublicKey | None:
    """The public half of the configured signing key, or None when there is none yet (never creates)."""
    if key_file is not None:
        return _read_private(key_file, _KEY_FILE_SETTING).public_key()
    path = home / KEY_FILE
    return _read_private(path, "the audit signing key").public_key() if path.exists() else None


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key's file also does: its public half)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"public key {path}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from exc
    if b"PRIVATE KEY" in data:
        return _read_private(path, "public key").public_key()
    return parse_public_key(data.decode("ascii", errors="replace"), source=str(path))


def parse_public_key(pem: str, *, source: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        msg = f"{source}: not a PEM public key"
        raise ConfigError(msg) from exc
    if not isinstance(key, Ed25519PublicKey):
        msg = f"{source}: a {type(key).__name__}, not an Ed25519 public key"
        raise ConfigError(msg)
    return key


def _read_private(path: Path, what: str) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{what} {path}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        # TypeError: an encrypted key; gcwm runs unattended and asks for no passphrase.
        msg = f"{what} {path}: not an unencrypted PEM private key"
        raise ConfigError(msg) from exc
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{what} {path}: a {type(key).__name__}, not an Ed25519 private key"
        raise ConfigError(msg)
    return key


def _create(path: Path, private_key: Ed25519PrivateKey, *, announce: bool = True) -> None:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    temporary: Path | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as GCWM_HOME: the user's alone
        # A name of its own per call (mode 0600): threads of one process share a pid.
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temporary = Path(name)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)  # fails if another process made the key first: use theirs
        except FileExistsError:
            return
    except OSError as exc:
        msg = f"could not create the audit signing key at {path}: {exc.strerror}"
        raise ConfigError(msg) from exc
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    if announce:
        print(f"gcwm: created the audit signing key at {path}", file=sys.stderr)

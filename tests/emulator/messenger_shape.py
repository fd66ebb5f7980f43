"""The shape Genesys's own client requires of config.json, as a checker independent of the emulator.

Transcribed (facts, not code) from `DeploymentConfig.kt` in MyPureCloud/genesys-messenger-transport-mobile-sdk
@ ea4509f742eceeb096870d46847af49f49545e04 (2026-06-18; the file last changed in 6a3b3d31,
2026-04-27): a property without a default value is required; the client ignores unknown keys."""

from __future__ import annotations

from typing import Any

# Required keys and their JSON types; a tuple of strings is an enum, a dict a nested object.
REQUIRED: dict[str, Any] = {
    "id": str,
    "version": str,
    "languages": list,
    "defaultLanguage": str,
    "apiEndpoint": str,
    "messenger": {
        "enabled": bool,
        "apps": {"conversations": {"messagingEndpoint": str}},
        "styles": {"primaryColor": str},
        "launcherButton": {"visibility": str},
        "fileUpload": {},
    },
    "journeyEvents": {"enabled": bool},
    "status": ("Active", "Inactive"),
    "auth": {"enabled": bool},
}
# Optional keys the client reads (with a default), by path, and their JSON types.
OPTIONAL: dict[str, Any] = {
    "messenger.fileUpload.enableAttachments": bool,
    "messenger.fileUpload.modes": list,
    "messenger.apps.conversations.showAgentTypingIndicator": bool,
    "messenger.apps.conversations.showUserTypingIndicator": bool,
    "messenger.apps.conversations.autoStart": {"enabled": bool},
    "messenger.apps.conversations.conversationDisconnect": {"enabled": bool, "type": ("ReadOnly", "Send")},
    "messenger.apps.conversations.conversationClear": {"enabled": bool},
    "messenger.apps.conversations.markdown": {"enabled": bool},
    "messenger.apps.conversations.humanize": {"enabled": bool},
    "auth.allowSessionUpgrade": bool,
}
MODE: dict[str, Any] = {"maxFileSizeKB": int}  # Mode: fileTypes defaults to [], maxFileSizeKB required


def shape_problems(document: dict[str, Any]) -> list[str]:
    """What in `document` the client could not read: a required key missing, a wrong type or enum."""
    problems = _check(REQUIRED, document, "")
    for path, expected in OPTIONAL.items():
        value = _lookup(document, path)
        if value is not None:
            problems += _check_value(expected, value, path, optional_keys=True)
    for index, mode in enumerate(_lookup(document, "messenger.fileUpload.modes") or []):
        where = f"messenger.fileUpload.modes[{index}]"
        problems += _check(MODE, mode, where)
        types = mode.get("fileTypes", [])
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            problems.append(f"{where}.fileTypes: not a list of strings")
    for index, language in enumerate(document.get("languages") or []):
        if not isinstance(language, str):
            problems.append(f"languages[{index}]: not a string")
    return problems


def _check(spec: dict[str, Any], value: Any, path: str, *, optional_keys: bool = False) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path or 'document'}: not an object"]
    out = []
    for key, expected in spec.items():
        where = f"{path}.{key}" if path else key
        if key not in value or value[key] is None:
            if not optional_keys:
                out.append(f"{where}: required")
            continue
        out += _check_value(expected, value[key], where, optional_keys=optional_keys)
    return out


def _check_value(expected: Any, value: Any, path: str, *, optional_keys: bool) -> list[str]:
    if isinstance(expected, dict):
        return _check(expected, value, path, optional_keys=optional_keys)
    if isinstance(expected, tuple):
        return [] if value in expected else [f"{path}: {value!r} is not one of {', '.join(expected)}"]
    ok = isinstance(value, expected) and (expected is bool) == isinstance(value, bool)
    return [] if ok else [f"{path}: {value!r} is not {expected.__name__}"]


def _lookup(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value

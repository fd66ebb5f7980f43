"""Server-filled fields (`EmulatorConfig.server_defaults`): what Genesys does to a write's settings.

The Terraform provider marks many configuration fields `Computed`, i.e. Genesys fills them when a
request leaves them out (MyPureCloud/terraform-provider-genesyscloud @ f955430,
`genesyscloud/webdeployments_configuration/resource_genesyscloud_webdeployments_configuration_schema.go`).
Genesys does not publish the values it fills, so every value below is the emulator's choice. A
field is filled only inside an object the request gave, except `messenger.apps` and
`apps.conversations`, which the provider marks Computed themselves. Every filled field exists in
the official models, so answers still hold only their model's fields."""

from __future__ import annotations

import copy
from typing import Any

# Emulator's choices, by path inside the configuration version (README: values unconfirmed).
MESSENGER_DEFAULTS: dict[str, Any] = {
    "enabled": False,  # absent means off, matching "languages required if the messenger is enabled"
    "sessionPersistenceType": "DomainOrSubdomainOnly",  # the narrower of the two enum values
}
CONVERSATIONS_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "showAgentTypingIndicator": True,
    "showUserTypingIndicator": True,
    "autoStart": {"enabled": False},
    "markdown": {"enabled": False},
    "conversationClear": {"enabled": False},
}
HOME_SCREEN_DEFAULTS: dict[str, Any] = {"enabled": False}
FILE_UPLOAD_DEFAULTS: dict[str, Any] = {"enableAttachments": False}
COBROWSE_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "allowAgentControl": False,
    "allowAgentNavigation": False,
    "allowDraw": False,
}
VIDEO_DEFAULTS: dict[str, Any] = {"enabled": False}


def fill_configuration(settings: dict[str, Any]) -> dict[str, Any]:
    """A configuration's settings with the Computed fields filled and hex colours lower-cased."""
    filled = copy.deepcopy(settings)
    messenger = filled.get("messenger")
    if isinstance(messenger, dict):
        _fill(messenger, MESSENGER_DEFAULTS)
        conversations = messenger.setdefault("apps", {}).setdefault("conversations", {})
        _fill(conversations, CONVERSATIONS_DEFAULTS)
        for key, defaults in (("homeScreen", HOME_SCREEN_DEFAULTS), ("fileUpload", FILE_UPLOAD_DEFAULTS)):
            if isinstance(messenger.get(key), dict):
                _fill(messenger[key], defaults)
        styles = messenger.get("styles")
        if isinstance(styles, dict) and isinstance(styles.get("primaryColor"), str):
            styles["primaryColor"] = styles["primaryColor"].lower()
    for key, defaults in (("cobrowse", COBROWSE_DEFAULTS), ("video", VIDEO_DEFAULTS)):
        if isinstance(filled.get(key), dict):
            _fill(filled[key], defaults)
    return filled


def normalise_deployment(settings: dict[str, Any]) -> dict[str, Any]:
    """A deployment's settings with `allowedDomains` lower-cased and sorted (emulator's choice of
    how Genesys may normalise host names, which are case-insensitive)."""
    domains = settings.get("allowedDomains") or []
    return {**settings, "allowedDomains": sorted(d.lower() for d in domains)}


def _fill(target: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Add each default the target lacks; nested objects are filled key by key."""
    for key, value in defaults.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            _fill(target[key], value)

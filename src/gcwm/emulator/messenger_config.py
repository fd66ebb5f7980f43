"""The stand-in of Messenger's `config.json` for a deployment, and what the socket's hello says of
attachments.

Shape: Genesys's own client reads config.json into `DeploymentConfig`
(MyPureCloud/genesys-messenger-transport-mobile-sdk @ ea4509f, 2026-06-18,
`transport/src/commonMain/kotlin/com/genesys/cloud/messenger/transport/shyrka/receive/DeploymentConfig.kt`),
whose required fields are `id`, `version`, `languages`, `defaultLanguage`, `apiEndpoint`,
`messenger {enabled, apps.conversations.messagingEndpoint, styles.primaryColor,
launcherButton.visibility, fileUpload {modes[] {fileTypes, maxFileSizeKB}}}`, `journeyEvents.enabled`,
`status` (Active|Inactive) and `auth.enabled`; it ignores unknown keys. Everything is derived from
the configuration version the deployment uses; where the version says nothing the emulator
chooses the values named below.

Attachments: that client takes its attachment rules from the session's `allowedMedia` (the
supported content profile) as soon as `fileUpload.enableAttachments` is present, and from the
deprecated `fileUpload.modes` otherwise (MessagingClientImpl.createFileAttachmentProfile, same
commit). So when the deployment names a profile and the version does not set `enableAttachments`,
config.json says `enableAttachments: true`."""

from __future__ import annotations

from typing import Any

from gcwm.emulator.entities import Configuration, Deployment, SupportedContentProfile
from gcwm.emulator.lifecycle import ACTIVE, Timings, deployment_status

# Emulator choices, for a version that leaves these out (Genesys's defaults are unconfirmed).
DEFAULT_PRIMARY_COLOR = "#ff4f1f"
DEFAULT_LAUNCHER_VISIBILITY = "On"
# FileUploadMode.maxFileSizeKB "Default is 10240 (10 MB)" (SDK model description).
DEFAULT_MAX_FILE_SIZE_KB = 10240
# Resource Center [S15]: attachments are capped at 25 MB whatever the profile allows.
PROFILE_MAX_FILE_SIZE_KB = 25 * 1024
# The conversation settings the client reads, passed through when the version sets them.
_CONVERSATION_KEYS = (
    "showAgentTypingIndicator",
    "showUserTypingIndicator",
    "autoStart",
    "conversationDisconnect",
    "conversationClear",
    "notifications",
    "markdown",
    "humanize",
)


def messenger_config_view(
    deployment: Deployment,
    config: Configuration | None,
    *,
    now: float,
    timings: Timings,
    api_endpoint: str,
    messaging_endpoint: str,
) -> dict[str, Any]:
    """A deployment's config.json: its configuration version, the API endpoint and the WebSocket
    messaging endpoint (README "Provisioning", step 7), complete as `DeploymentConfig` needs it."""
    config_id, version_id = deployment.configuration_ref
    version = config.version(version_id) if config is not None else None
    settings = version.settings if version is not None else {}
    messenger = settings.get("messenger") or {}
    conversations_set = (messenger.get("apps") or {}).get("conversations") or {}
    conversations = {"messagingEndpoint": messaging_endpoint}
    conversations.update({k: conversations_set[k] for k in _CONVERSATION_KEYS if k in conversations_set})
    auth = settings.get("authenticationSettings") or {}
    return {
        "id": config_id,
        "version": version_id,
        "languages": list(settings.get("languages") or []),
        "defaultLanguage": settings.get("defaultLanguage") or "",
        "apiEndpoint": api_endpoint,
        "messenger": {
            "enabled": bool(messenger.get("enabled", False)),
            "apps": {"conversations": conversations},
            "styles": {
                "primaryColor": (messenger.get("styles") or {}).get("primaryColor") or DEFAULT_PRIMARY_COLOR
            },
            "launcherButton": {
                "visibility": (messenger.get("launcherButton") or {}).get("visibility")
                or DEFAULT_LAUNCHER_VISIBILITY
            },
            "fileUpload": _file_upload(messenger.get("fileUpload") or {}, deployment),
        },
        "journeyEvents": {"enabled": bool((settings.get("journeyEvents") or {}).get("enabled", False))},
        "status": "Active" if deployment_status(deployment, now, timings) == ACTIVE else "Inactive",
        "auth": {
            "enabled": bool(auth.get("enabled", False)),
            "allowSessionUpgrade": bool(auth.get("allowSessionUpgrade", False)),
        },
    }


def allowed_media(profile: SupportedContentProfile | None) -> dict[str, Any]:
    """The session's `allowedMedia {inbound {fileTypes[] {type}, maxFileSizeKB}}` for a profile, as
    the transport SDK's SessionResponse reads it (none allowed when there is no profile)."""
    allow = ((profile.media_types if profile is not None else None) or {}).get("allow") or {}
    types = [{"type": entry["type"]} for entry in allow.get("inbound") or [] if entry.get("type")]
    return {"inbound": {"fileTypes": types, "maxFileSizeKB": PROFILE_MAX_FILE_SIZE_KB if types else 0}}


def _file_upload(file_upload: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
    modes = [
        {
            "fileTypes": list(mode.get("fileTypes") or []),
            "maxFileSizeKB": DEFAULT_MAX_FILE_SIZE_KB
            if mode.get("maxFileSizeKB") is None
            else mode["maxFileSizeKB"],
        }
        for mode in file_upload.get("modes") or []
    ]
    out: dict[str, Any] = {"modes": modes}
    if "enableAttachments" in file_upload:
        out["enableAttachments"] = bool(file_upload["enableAttachments"])
    elif deployment.supported_content_id is not None:
        out["enableAttachments"] = True  # the profile governs attachments (module docstring)
    return out

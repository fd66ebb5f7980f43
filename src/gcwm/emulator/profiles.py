"""Supported content profiles (`/api/v2/conversations/messaging/supportedcontent`) and the org's default.

Facts (shared/genesys/README.md, Corrections; Resource Center "Supported content profiles" [S15]):
every org has a default profile, which allows all inbound types and .jpg/.png/.gif outbound, and
which applies when a deployment names none. Emulator choices: the seeded default is named
"Default" and its id is derived from the org id; a delete takes effect at once (no Deleting
status); deleting the default or a profile a deployment (not being deleted) names is 409
`conflict`; `version` starts at 1 and grows by one on each PATCH. No count limit is enforced
(none is known)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from gcwm.emulator.entities import SupportedContentProfile
from gcwm.emulator.errors import ApiError, invalid, not_found

PROFILES_PATH = "/api/v2/conversations/messaging/supportedcontent"
DEFAULT_PROFILE_NAME = "Default"
# [S15]: the default profile allows all inbound types and image/jpeg, image/png, image/gif outbound.
DEFAULT_MEDIA_TYPES: dict[str, Any] = {
    "allow": {
        "inbound": [{"type": "*/*"}],
        "outbound": [{"type": "image/jpeg"}, {"type": "image/png"}, {"type": "image/gif"}],
    }
}


def seed_profile(org_id: str, now: float) -> SupportedContentProfile:
    """The default profile a fresh org starts with (its id is stable for the org)."""
    profile_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gcwm-emulator:{org_id}:supportedcontent:default"))
    return SupportedContentProfile(profile_id, 0, DEFAULT_PROFILE_NAME, DEFAULT_MEDIA_TYPES, now, now)


class ProfileBook:
    """The org's profiles and which one is the default; writes are recorded before they return.

    `users(profile_id)` names the live deployments that use a profile; `record(entry)` makes a
    journal entry durable (OrgState's state file)."""

    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        record: Callable[[dict[str, Any]], None],
        users: Callable[[str], list[str]],
        next_seq: Callable[[], int],
    ) -> None:
        self._lock = lock
        self._clock = clock
        self._record = record
        self._users = users
        self._next_seq = next_seq
        self._profiles: dict[str, SupportedContentProfile] = {}
        self.default_id = ""

    def load(self, profiles: list[SupportedContentProfile], default_id: str) -> None:
        """Take the profiles of a saved or seeded state."""
        self._profiles = {p.id: p for p in profiles}
        self.default_id = default_id

    def all(self) -> list[SupportedContentProfile]:
        """Every profile, in creation order (the seeded default first)."""
        with self._lock:
            return sorted(self._profiles.values(), key=lambda p: p.seq)

    def find(self, profile_id: str) -> SupportedContentProfile | None:
        with self._lock:
            return self._profiles.get(profile_id)

    def get(self, profile_id: str) -> SupportedContentProfile:
        profile = self.find(profile_id)
        if profile is None:
            raise not_found(f"Supported content profile {profile_id} not found", profile_id)
        return profile

    def default(self) -> SupportedContentProfile:
        with self._lock:
            return self.get(self.default_id)

    def create(self, name: str, media_types: dict[str, Any] | None) -> SupportedContentProfile:
        with self._lock:
            now = self._clock()
            profile = SupportedContentProfile(
                str(uuid.uuid4()), self._next_seq(), name, media_types, now, now
            )
            self._profiles[profile.id] = profile
            self._record({"supportedContent": profile.to_dict()})
            return profile

    def patch(self, profile_id: str, changes: dict[str, Any]) -> SupportedContentProfile:
        """Change the name and/or the media types given; the version grows by one."""
        with self._lock:
            profile = self.get(profile_id)
            if "name" in changes:
                profile.name = changes["name"]
            if "mediaTypes" in changes:
                profile.media_types = changes["mediaTypes"]
            profile.version += 1
            profile.date_modified = self._clock()
            self._record({"supportedContent": profile.to_dict()})
            return profile

    def delete(self, profile_id: str) -> None:
        with self._lock:
            self.get(profile_id)
            if profile_id == self.default_id:
                msg = f"Supported content profile {profile_id} is the organization's default; "
                msg += "make another profile the default first"
                raise ApiError(409, msg, entity_id=profile_id)
            users = self._users(profile_id)
            if users:
                msg = f"Supported content profile {profile_id} is used by deployment(s) {', '.join(users)}"
                raise ApiError(409, msg, entity_id=profile_id)
            del self._profiles[profile_id]
            self._record({"supportedContentDeleted": profile_id})

    def set_default(self, profile_id: str) -> SupportedContentProfile:
        with self._lock:
            profile = self._profiles.get(profile_id)
            if profile is None:
                raise invalid("id", f"supported content profile {profile_id} does not exist")
            self.default_id = profile_id
            self._record({"defaultSupportedContentId": profile_id})
            return profile

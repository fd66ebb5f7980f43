"""What a target answered, as gcwm keeps and shows it (issue 23, item 4).

A target's answer is not gcwm's to show: a target on the host or the site's network may be a
service that never meant to answer the submitter (an emulator's admin API, a metadata service). So
a failed attempt's error is kept in two parts, the outbox's `last_error` being
`<what gcwm says>\n<what the target answered>`:

- the message (method, URL, status, whether it is retried), shown to everyone who may read
  notifications, one line, never a byte of the answer;
- the reply: at most the first `REPLY_BYTES` bytes of the answer's body, control and format characters
  removed (no terminal escapes, no line breaks, no bidirectional overrides), shown to admins only.

Errors stored before this split put the body after `answered <status>: `; they are read the same way.
"""

from __future__ import annotations

import re
import unicodedata

#: The most of an answer's body an admin sees (and gcwm keeps).
REPLY_BYTES = 200

# Control (C0, DEL, C1), format (bidirectional overrides, zero-width) and line/paragraph separators.
_REMOVED = frozenset({"Cc", "Cf", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")
_LEGACY_BODY = re.compile(r" answered \d{3}: ")
_LEGACY_TAIL = re.compile(r" \(a \d{3} is not retried\)$")
_REF = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def clean_text(text: str) -> str:
    """`text` on one line: control, format and line-separator characters removed (whitespace ones as a
    space), runs of spaces as one."""
    kept = [
        (" " if char.isspace() else "") if unicodedata.category(char) in _REMOVED else char for char in text
    ]
    return _SPACES.sub(" ", "".join(kept)).strip()


def reply_excerpt(body: bytes) -> str:
    """At most REPLY_BYTES bytes of an answer's body, cleaned (a character the cut split is dropped)."""
    return clean_text(body[:REPLY_BYTES].decode("utf-8", "ignore"))


def stored_error(message: str, reply: str = "") -> str:
    """The outbox's `last_error` for an attempt's message and the target's reply (see above)."""
    line = clean_text(message)
    return f"{line}\n{reply}" if reply else line


def split_error(text: str | None) -> tuple[str | None, str | None]:
    """A stored `last_error` as (message, reply): the message anyone may see, the reply for admins."""
    if text is None:
        return None, None
    message, _, reply = text.partition("\n")
    legacy = _LEGACY_BODY.search(message)
    if legacy is None:
        return message, reply or None
    # Stored before the split: "<what> answered 503: <body> (a 503 is not retried)", body and all.
    detail = text[legacy.end() :]
    tail = _LEGACY_TAIL.search(detail)
    if tail is not None:
        detail = detail[: tail.start()]
    head = message[: legacy.start()] + legacy.group().rstrip(": ") + (tail.group() if tail else "")
    return head, reply_excerpt(detail.encode()) or None


def external_ref(value: str | None) -> str | None:
    """A record's id from a target's answer (a sys_id, an issue key), kept only if it looks like one."""
    if value is None or not _REF.match(value):
        return None
    return value

"""One-time codes that confirm pending votes and signatures, sent to the phone on record.

A vote or signature made in self-service is pending (typing a PINFL proves nothing:
it is printed on the card). The citizen confirms it with a code the portal sends to
the phone the registry holds for the PINFL (`sync.portal.registry`), never to a number
typed at the kiosk. Rules, all kept in the database so every portal process applies
them (docs/participation.md):

- a code confirms ONE pending item, the one the kiosk asked it for (its subject, the
  device and item id): a vote someone else made under the citizen's PINFL is never
  confirmed by the citizen's code (`sync.portal.votes`);
- codes are 6 digits, stored only as an HMAC under the portal's PINFL key (a 6-digit
  hash alone is reversed in a moment) bound to the tag and subject, valid `CODE_TTL`,
  `MAX_TRIES` wrong tries;
- a new code replaces the last one for the same item only (a code someone asks for
  another item under the PINFL never voids the citizen's); sends are limited per item
  (`ITEM_SEND_LIMIT`), per PINFL tag and device (`SEND_LIMIT`: a stranger's requests
  from another kiosk never use up the citizen's), per device (`DEVICE_SEND_LIMIT`: one kiosk cannot text a
  district) and in all (`GLOBAL_SEND_LIMIT`: what an SMS budget allows), each in
  `SEND_WINDOW`; counting and sending are one step across processes (`Conn.serialize`);
- SMS cannot run here: `FakeSmsGateway` (named so everywhere) appends each message to
  ``FAKE_SMS_OUTBOX.jsonl`` in the portal dir, which tests and demos read.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.i18n import N_, tr
from kiosk.wire import now_iso
from sync.portal.db import Conn, Row
from sync.portal.pinfl_key import tag_with

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
SEND_WINDOW = timedelta(hours=1)
ITEM_SEND_LIMIT = 3
SEND_LIMIT = 10
DEVICE_SEND_LIMIT = 60
GLOBAL_SEND_LIMIT = 5000
FAKE_SMS_FILE = "FAKE_SMS_OUTBOX.jsonl"
SMS_TEXT = N_(
    "Mahalla Kiosk: your confirmation code is {code}. It confirms your vote or signature. "
    "Tell it to nobody."
)


class FakeSmsGateway:
    """A FAKE SMS gateway: writes each message as a JSON line to a file in the portal
    dir instead of sending it (no SMS provider can run here). Never use in production."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FAKE_SMS_FILE

    def send(self, phone: str, text: str, at: str) -> None:
        line = json.dumps({"to": phone, "text": text, "at": at, "gateway": "FAKE"}) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def messages(self) -> list[dict[str, str]]:
        """Every message written so far, oldest first (tests, demos)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def phone_hint(phone: str) -> str:
    """What the kiosk may show of the number: its last two digits."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "•• " + digits[-2:] if len(digits) >= 2 else "••"


def subject_of(device_id: str, item_id: str) -> str:
    """What a code confirms: one item of one device."""
    return f"{device_id}:{item_id}"


def _code_hash(key: bytes, tag: str, subject: str, code: str) -> str:
    return tag_with(key, f"otp\0{tag}\0{subject}\0{code}")


def _wait(rows: Sequence[Row], limit: int, moment: datetime) -> int | None:
    if len(rows) < limit:
        return None
    oldest = datetime.fromisoformat(str(rows[0]["at"]).replace("Z", "+00:00"))
    return max(1, int((oldest + SEND_WINDOW - moment).total_seconds()) + 1)


def may_send(conn: Conn, tag: str, subject: str, device_id: str, moment: datetime) -> int | None:
    """None when a code for ``subject`` may be sent to ``tag`` from ``device_id`` now
    (the send is counted), else the seconds to wait. One step across processes."""
    conn.serialize("otp:send")
    since = now_iso(moment - SEND_WINDOW)
    conn.execute("DELETE FROM otp_sends WHERE at <= ?", (since,))
    checks = (
        (
            "SELECT at FROM otp_sends WHERE pinfl_tag = ? AND subject = ? AND at > ? ORDER BY at",
            (tag, subject),
            ITEM_SEND_LIMIT,
        ),
        (
            "SELECT at FROM otp_sends WHERE pinfl_tag = ? AND device_id = ? AND at > ? ORDER BY at",
            (tag, device_id),
            SEND_LIMIT,
        ),
        (
            "SELECT at FROM otp_sends WHERE device_id = ? AND at > ? ORDER BY at",
            (device_id,),
            DEVICE_SEND_LIMIT,
        ),
        ("SELECT at FROM otp_sends WHERE at > ? ORDER BY at", (), GLOBAL_SEND_LIMIT),
    )
    for sql, args, limit in checks:
        wait = _wait(conn.execute(sql, (*args, since)).fetchall(), limit, moment)
        if wait is not None:
            return wait
    conn.execute(
        "INSERT INTO otp_sends (pinfl_tag, subject, device_id, at) VALUES (?, ?, ?, ?)",
        (tag, subject, device_id, now_iso(moment)),
    )
    return None


def issue(conn: Conn, key: bytes, tag: str, subject: str, moment: datetime) -> str:
    """A new code for ``tag`` confirming ``subject`` (replacing the last code for the
    same subject only), stored as a hash; the code itself."""
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    conn.execute(
        "INSERT INTO otp_codes (pinfl_tag, subject, code_hash, expires_at, tries) "
        "VALUES (?, ?, ?, ?, 0) ON CONFLICT (pinfl_tag, subject) DO UPDATE SET "
        "code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0",
        (tag, subject, _code_hash(key, tag, subject, code), now_iso(moment + CODE_TTL)),
    )
    return code


def sms_text(lang: str, code: str) -> str:
    return tr(lang, SMS_TEXT, code=code)


def check(
    conn: Conn, key: bytes, tag: str, subject: str, code: str, moment: datetime
) -> tuple[str, int]:
    """Spend a try of ``tag``'s code for ``subject``: ("ok", 0), ("otp.wrong", tries
    left) or ("otp.expired", 0) (none for this subject, used up or too old). A right code
    is deleted (used once); a wrong one counts a try in the same transaction."""
    conn.serialize(f"otp:{tag}")
    row = conn.execute(
        "SELECT code_hash, expires_at, tries FROM otp_codes WHERE pinfl_tag = ? AND subject = ?"
        + conn.for_update,
        (tag, subject),
    ).fetchone()
    if row is None or row["expires_at"] <= now_iso(moment) or row["tries"] >= MAX_TRIES:
        return "otp.expired", 0
    clean = "".join(ch for ch in code if ch.isdigit())
    if hmac.compare_digest(row["code_hash"], _code_hash(key, tag, subject, clean)):
        conn.execute("DELETE FROM otp_codes WHERE pinfl_tag = ? AND subject = ?", (tag, subject))
        return "ok", 0
    conn.execute(
        "UPDATE otp_codes SET tries = tries + 1 WHERE pinfl_tag = ? AND subject = ?",
        (tag, subject),
    )
    return "otp.wrong", MAX_TRIES - int(row["tries"]) - 1

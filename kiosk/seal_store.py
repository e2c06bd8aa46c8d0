"""The kiosk's side of sealing: which key to seal to, and sealing rows in the outbox.

The key is the portal's sealing public key (`kiosk.sealing.SealingKey`), kept in the
settings table (`SEALING_KEY`). It gets there two ways, both checked against an
Ed25519 signing key (docs/keys.md, "Sealing keys"):

- at enrolment, from the portal's answer, verified under the signing keys the same
  answer pins (`sync.enrolment`), in the transaction that stores the token;
- before enrolment, installed with the kiosk like its catalog: ``kiosk key install
  FILE`` (`install`), a file the portal wrote (``kiosk portal export-sealing-key``).
  An installation image may instead name that file in ``KIOSK_SEALING_KEY``; a key in
  the data directory wins.

A kiosk with no key refuses to submit (`NoSealingKey`): the answers stay in the draft,
and no clear text ever reaches the outbox. Rows queued by an older kiosk in clear text
are sealed as soon as a key is known (`seal_legacy`, at open and before each sync).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import audit, seal_dict, signing
from kiosk.crashpoints import crash_point
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.sealing import (
    SealingKey,
    blob_hash,
    key_message,
    seal_payload,
)
from kiosk.sealing import valid_sealing_key as valid_sealing_key
from kiosk.settings import SIGNING_KEYS, get_setting, put_setting
from kiosk.store_errors import StoreError
from kiosk.wire import canonical_json, loads

if TYPE_CHECKING:
    from sqlite_utils import Database

SEALING_KEY = "portal_sealing_key"  # settings: the SealingKey as JSON
ENV_KEY_FILE = "KIOSK_SEALING_KEY"  # an installation's key file, when the data dir has none
FILE_FORMAT = "mahalla-kiosk-sealing-key"
FILE_VERSION = 1
MAX_KEY_FILE = 16 * 1024


class NoSealingKey(StoreError):
    """Submit refused: no portal key to seal the answers to (a `StoreError`, so every
    caller of submit already says it and keeps the draft)."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This kiosk has no portal sealing key, so it cannot keep the answers safely. "
                "The answers are kept in the draft. An operator can install the key "
                "(kiosk key install FILE) or enrol the kiosk."
            )
        )


class KeyFileRefused(TranslatableError):
    """A sealing key (file or enrolment answer) that is not signed as it must be."""


def vouched(key: SealingKey, signers: Mapping[str, str]) -> bool:
    """Whether ``key`` is signed by one of ``signers`` ({key id: base64 Ed25519 key})."""
    signer = key["signed_by"]
    if signer is None or signer not in signers:
        return False
    return signing.verify(
        signers[signer], key_message(key["key_id"], key["public_key"]), key["signature"]
    )


def key_file(key: SealingKey, signer: signing.PublicKey) -> str:
    """The text of a key file for ``kiosk key install`` (the portal writes it)."""
    return canonical_json(
        {"format": FILE_FORMAT, "version": FILE_VERSION, "sealing_key": key, "signing_key": signer}
    )


def parse_key_file(data: bytes, pins: Mapping[str, str]) -> SealingKey:
    """The sealing key of a key file, verified: under ``pins`` when the kiosk pins signing
    keys (it is enrolled), else under the signing key the file names (integrity only:
    the file is trusted as installed, like the bundled catalog)."""
    refused = KeyFileRefused(N_("The file is not a sealing key from a portal, or was edited."))
    if len(data) > MAX_KEY_FILE:
        raise refused
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise refused from None
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise refused
    key = valid_sealing_key(doc.get("sealing_key"))
    signer = signing.valid_public_key(doc.get("signing_key"))
    if key is None or signer is None:
        raise refused
    trusted = dict(pins) if pins else {signer["key_id"]: signer["public_key"]}
    if not vouched(key, trusted):
        raise KeyFileRefused(
            N_("The sealing key is not signed by a key this kiosk trusts (signed by {signer})."),
            signer=str(key["signed_by"])[:32],
        )
    return key


def stored_key(db: Database) -> SealingKey | None:
    """The key in the data directory, else the installation's (``KIOSK_SEALING_KEY``,
    verified under the pinned signing keys when there are any)."""
    key = _data_dir_key(db)
    if key is not None:
        return key
    path = os.environ.get(ENV_KEY_FILE)
    if not path:
        return None
    try:
        # Checked as `kiosk key install` checks it: once the kiosk pins signing keys
        # (enrolled), only a key they vouch for; a file signed by anyone else is not
        # sealed to (an enrolment from before sealing gets the portal's at its next sync).
        return _file_key(Path(path).read_bytes(), tuple(sorted(pins(db).items())))
    except (OSError, KeyFileRefused):
        return None


def _data_dir_key(db: Database) -> SealingKey | None:
    raw = get_setting(db, SEALING_KEY)
    if not raw:
        return None
    try:
        return valid_sealing_key(json.loads(raw))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4)
def _file_key(data: bytes, pinned: tuple[tuple[str, str], ...]) -> SealingKey:
    return parse_key_file(data, dict(pinned))


def pins(db: Database) -> dict[str, str]:
    raw = get_setting(db, SIGNING_KEYS)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return (
        {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    )


def put_key(db: Database, key: SealingKey) -> None:
    """Store ``key`` (inside the caller's transaction)."""
    put_setting(db, SEALING_KEY, canonical_json(key))


def dictionary(db: Database, form_id: str, form_version: str, spec: object | None) -> bytes:
    """The compression dictionary for a form: from its spec in the forms table (what the
    portal has too), else from ``spec``, else the common part only."""
    row = db.execute(
        "SELECT spec FROM forms WHERE form_id = ? AND version = ?", [form_id, form_version]
    ).fetchone()
    if row is not None:
        return seal_dict.for_spec_text(row[0])
    return seal_dict.for_spec_text(canonical_json(spec) if spec is not None else None)


def seal_row(
    db: Database,
    key: SealingKey,
    item_id: str,
    form_id: str,
    form_version: str,
    payload_json: str,
    spec: object | None = None,
    *,
    code: str,
) -> bytes:
    """The sealed blob of one outbox row's canonical payload (tracking ``code``)."""
    zdict = dictionary(db, form_id, form_version, spec)
    return seal_payload(key, payload_json, item_id, form_id, form_version, zdict, code=code)


# A damaged row (not JSON) is no work: it stays as it is, and the sync quarantines it.
_LEGACY = "state = 'queued' AND typeof(payload) = 'text' AND json_valid(payload)"
# A refused row (rejected, conflict, quarantined) is never sent again: whatever clear
# text an older kiosk left in it, damaged or not, is of no use to anyone and is dropped
# (with or without a key). A refused row sealed at submit keeps its blob.
_REFUSED_CLEAR = "state = 'rejected' AND typeof(payload) = 'text' AND payload <> ''"


# settings: no clear-text queued row is left, nor clear text in a refused one (the name
# changed when refused rows were added, so a database checked before is looked at again)
LEGACY_CHECKED = "outbox_sealed_checked_2"


def has_legacy(db: Database) -> bool:
    """Whether a queued row is still in clear text, or a refused one keeps any."""
    sql = f"SELECT 1 FROM outbox WHERE ({_LEGACY}) OR ({_REFUSED_CLEAR}) LIMIT 1"
    return db.execute(sql).fetchone() is not None


def drop_refused_clear_text(db: Database) -> int:
    """Empty the clear-text payload of refused rows (inside the caller's transaction;
    ``secure_delete`` zeroes what was there); the number of rows, audited."""
    dropped = db.execute(f"UPDATE outbox SET payload = '' WHERE {_REFUSED_CLEAR}").rowcount
    if dropped:
        audit.append(db, "system", "refused_plaintext_dropped", f"{dropped} items", {})
    return dropped


def legacy_pending(db: Database, force: bool) -> bool:
    """Whether `seal_legacy` may have work. Unforced (each store open), a database found
    clean once is not scanned again; a sync, an export, an enrolment force the look."""
    if force:
        return has_legacy(db)
    # Never checked: the transaction runs once and records the result.
    return get_setting(db, LEGACY_CHECKED) is None


def seal_new(
    db: Database,
    item_id: str,
    form_id: str,
    form_version: str,
    body: str,
    spec: object | None,
    *,
    code: str,
) -> tuple[bytes, str]:
    """(blob, content hash) of a submission's canonical JSON, in submit's transaction;
    `NoSealingKey` when there is no key to seal to."""
    key = stored_key(db)
    if key is None:
        raise NoSealingKey()
    blob = seal_row(db, key, item_id, form_id, form_version, body, spec, code=code)
    return blob, blob_hash(blob)


def seal_legacy(db: Database) -> int:
    """Seal queued rows an older kiosk kept in clear text; the number sealed (0 without a
    key: they wait, and say so in docs/keys.md). Runs inside the caller's transaction.
    Refused rows' clear text is dropped first (`drop_refused_clear_text`): they are
    never sent again."""
    drop_refused_clear_text(db)
    # A delivered row keeps no size either (an older kiosk kept it: the length of its
    # clear-text answers); once per database, as the check below is recorded.
    db.execute("UPDATE outbox SET size_bytes = 0 WHERE state = 'sent' AND size_bytes <> 0")
    rows = db.execute(
        f"SELECT id, form_id, form_version, payload, tracking_code FROM outbox WHERE {_LEGACY}"
    ).fetchall()
    key = stored_key(db) if rows else None
    sealed = 0
    for item_id, form_id, version, payload, code in rows:
        if key is None:
            break
        try:
            loads(payload)
        except ValueError:  # damaged: left as it is, never sent (the sync quarantines it)
            continue
        sealed += 1
        blob = seal_row(db, key, item_id, form_id, version, payload, code=code)
        # The content hash becomes the blob's, as for a row sealed at submit (a claim
        # made at an earlier enrolment named the answers' hash: the portal checks both).
        db.execute(
            "UPDATE outbox SET payload = ?, size_bytes = ?, content_hash = ? WHERE id = ?",
            [blob, len(blob), blob_hash(blob), item_id],
        )
    if not has_legacy(db):  # none left: store opens need not look again
        put_setting(db, LEGACY_CHECKED, "1")
    if key is None or not sealed:
        return 0
    audit.append(db, "system", "seal_legacy", f"{sealed} items", {"key_id": key["key_id"]})
    crash_point("seal.legacy_before_commit")
    return sealed


def install(db: Database, data: bytes, actor: str = "admin") -> SealingKey:
    """Install a key file's sealing key (inside the caller's transaction), audited.

    A kiosk that already seals to a key its pinned signing keys vouch for takes a new
    one only from its portal, at a sync (`sync.engine`): a key file exported before a
    rotation is still signed, and must not take the kiosk back to the old key."""
    pinned = pins(db)
    key = parse_key_file(data, pinned)
    current = _data_dir_key(db)
    if (
        pinned
        and current is not None
        and current["key_id"] != key["key_id"]
        and vouched(current, pinned)
    ):
        raise KeyFileRefused(
            N_(
                "This kiosk already seals to its portal's key {current}; a new sealing key "
                "comes from the portal at the next sync, never from a file."
            ),
            current=current["key_id"],
        )
    put_key(db, key)
    audit.append(db, actor, "sealing_key_installed", key["key_id"], {"signed_by": key["signed_by"]})
    seal_legacy(db)
    crash_point("seal.key_before_commit")
    return key

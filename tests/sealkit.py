"""A test sealing key: kiosks in tests seal to it before they enrol (docs/keys.md).

A kiosk refuses to submit without a portal sealing key. Tests that submit without a
portal get this key through ``KIOSK_SEALING_KEY`` (set for the whole session by
tests/conftest.py, so CLI subprocesses have it too), as an installation image would.
A portal that must open what such a kiosk sealed before enrolment holds the private
half as an older key (`seed_portal`), as after a rotation. Tests of the refusal
remove the variable.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk import seal_dict, seal_store
from kiosk.sealing import (
    SealingKey,
    blob_hash,
    key_message,
    open_payload,
    public_b64,
    raw_public,
    seal_payload,
)
from kiosk.signing import PublicKey, b64, key_id

if TYPE_CHECKING:
    from sqlite_utils import Database

SIGNER = Ed25519PrivateKey.generate()
PRIVATE = X25519PrivateKey.generate()
_SIGNER_RAW = SIGNER.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)
SIGNING_KEY: PublicKey = {"key_id": key_id(_SIGNER_RAW), "public_key": b64(_SIGNER_RAW)}
KEY_ID = key_id(raw_public(PRIVATE))
KEY: SealingKey = {
    "key_id": KEY_ID,
    "public_key": public_b64(PRIVATE),
    "signed_by": SIGNING_KEY["key_id"],
    "signature": b64(SIGNER.sign(key_message(KEY_ID, public_b64(PRIVATE)))),
}
KEY_FILE_TEXT = seal_store.key_file(KEY, SIGNING_KEY)


def write_key_file(directory: Path) -> Path:
    path = directory / "sealing-key.json"
    path.write_text(KEY_FILE_TEXT, encoding="utf-8")
    return path


def install_env() -> Path:
    """Write the key file to a temporary folder and name it in ``KIOSK_SEALING_KEY``."""
    path = write_key_file(Path(tempfile.mkdtemp(prefix="kiosk-sealkey-")))
    os.environ[seal_store.ENV_KEY_FILE] = str(path)
    return path


def seed_portal(portal_dir: Path) -> None:
    """Give a portal (not yet started) the test key's private half as an older key."""
    sealing = Path(portal_dir) / "keys" / "sealing"
    sealing.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(sealing.parent, 0o700)
    os.chmod(sealing, 0o700)
    path = sealing / f"{KEY_ID}.key"
    if path.exists():
        return
    pem = PRIVATE.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def open_row(row: Mapping[str, object], spec: object | None = None) -> dict[str, object]:
    """The answers of an outbox row (``queue(include_payload=True)``) sealed to the test key."""
    blob = row["payload"]
    assert isinstance(blob, bytes), "the outbox holds a sealed blob"
    zdicts = (seal_dict.form_dictionary(spec), seal_dict.COMMON_DICTIONARY)
    names = (str(row["id"]), str(row["form_id"]), str(row["form_version"]))
    text = open_payload(PRIVATE, blob, *names, zdicts, code=str(row["tracking_code"]))
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def seal_item(item: Mapping[str, object], key: SealingKey = KEY) -> dict[str, object]:
    """A protocol item with its ``payload`` sealed (to the test key: a portal holding it
    via `seed_portal` opens it) and ``content_hash`` the blob's; values no kiosk would
    seal (NaN, a lone surrogate) are sealed as JSON text all the same, for hostile tests."""
    result = dict(item)
    if "payload" not in result:
        return result
    payload = result.pop("payload")
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    names = [str(result.get(k)) for k in ("id", "form_id", "form_version")]
    code = str(result.get("tracking_code"))
    try:
        blob = seal_payload(key, text, *names, seal_dict.COMMON_DICTIONARY, code=code)
    except ValueError:  # a field no AAD can hold: refused before it is opened anyway
        blob = seal_payload(key, text, "x", "x", "x", seal_dict.COMMON_DICTIONARY, code="x")
    result["sealed"] = b64(blob)
    result["content_hash"] = blob_hash(blob)
    return result


def reseal(item: Mapping[str, object], payload: object) -> dict[str, object]:
    """``item`` with other answers, sealed again (an edited item, as a forger would)."""
    rest = {k: v for k, v in item.items() if k not in ("sealed", "content_hash")}
    return seal_item({**rest, "payload": payload})


def open_row_in(db: Database, row: Mapping[str, object]) -> dict[str, object]:
    """`open_row` with the dictionary the kiosk used: its forms table's spec, else the
    bundled form's."""
    from kiosk.catalog import bundled_form_files, load_form_file

    form_id, version = str(row["form_id"]), str(row["form_version"])
    found = db.execute(
        "SELECT spec FROM forms WHERE form_id = ? AND version = ?", [form_id, version]
    ).fetchone()
    if found is not None:
        return open_row(row, json.loads(found[0]))
    for path in bundled_form_files():
        if path.stem == form_id:
            return open_row(row, load_form_file(path).spec)
    return open_row(row)

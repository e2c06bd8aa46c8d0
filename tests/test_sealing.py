"""Sealed submissions (kiosk/sealing.py, kiosk/seal_dict.py, kiosk/seal_store.py): the blob
opens only with the right key, for the right item, and never inflates without bound."""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk import drafts, seal_dict, seal_store, sealing
from kiosk.catalog import CatalogError, bundled_form_files, load_form_file, load_sample
from kiosk.config import db_path
from kiosk.store import Store
from kiosk.wire import canonical_json
from tests import sealkit

AAD = sealing.item_aad("00000000-0000-4000-8000-000000000001", "f", "1", b"", code="ABCD-1")


def test_round_trip_and_every_blob_differs() -> None:
    public = sealing.raw_public(sealkit.PRIVATE)
    a = sealing.seal(public, b"answers", AAD)
    b = sealing.seal(public, b"answers", AAD)
    assert a != b  # a fresh ephemeral key each time: the hash of a blob reveals nothing
    assert len(a) == len(b"answers") + sealing.OVERHEAD
    assert sealing.open_sealed(sealkit.PRIVATE, a, AAD) == b"answers"
    raw = sealkit.PRIVATE.private_bytes_raw()
    assert sealing.open_sealed(raw, b, AAD) == b"answers"


def test_wrong_key_tampered_byte_swapped_aad_and_truncation_are_refused() -> None:
    public = sealing.raw_public(sealkit.PRIVATE)
    blob = sealing.seal(public, b"answers", AAD)
    with pytest.raises(sealing.SealError, match="another key"):
        sealing.open_sealed(X25519PrivateKey.generate(), blob, AAD)
    for index in (0, 5, 40, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(sealing.SealError):
            sealing.open_sealed(sealkit.PRIVATE, bytes(tampered), AAD)
    other = sealing.item_aad("00000000-0000-4000-8000-000000000002", "f", "1", b"", code="ABCD-1")
    with pytest.raises(sealing.SealError, match="not this item"):
        sealing.open_sealed(sealkit.PRIVATE, blob, other)
    # Another device's item (its own tracking code) under the same id: does not open.
    elsewhere = sealing.item_aad(
        "00000000-0000-4000-8000-000000000001", "f", "1", b"", code="WXYZ-1"
    )
    with pytest.raises(sealing.SealError, match="not this item"):
        sealing.open_sealed(sealkit.PRIVATE, blob, elsewhere)
    for cut in (0, 1, sealing.OVERHEAD - 1, len(blob) - 1):
        with pytest.raises(sealing.SealError):
            sealing.open_sealed(sealkit.PRIVATE, blob[:cut], AAD)
    # Said in the user's language, never a crash.
    with pytest.raises(sealing.SealError) as err:
        sealing.open_sealed(sealkit.PRIVATE, b"\x01" * 60, AAD)
    assert "cannot be opened" in err.value.message("en")


def test_decompression_is_bounded() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = bomb.compress(b"0" * (sealing.MAX_PLAIN * 4)) + bomb.flush()
    assert len(packed) < 2000
    with pytest.raises(sealing.SealError, match="more than"):
        sealing.decompress(packed, b"")
    with pytest.raises(sealing.SealError):
        sealing.decompress(b"\xff\xff garbage", b"")
    assert sealing.decompress(sealing.compress("Ўзбек", b"x"), b"x") == "Ўзбек"


def test_the_dictionary_is_deterministic_and_from_the_spec_only() -> None:
    path = next(p for p in bundled_form_files() if p.stem == "address_registration")
    spec = load_form_file(path).spec
    shuffled = json.loads(json.dumps(spec, sort_keys=True))
    first = seal_dict.form_dictionary(spec)
    assert first == seal_dict.form_dictionary(shuffled) == seal_dict.form_dictionary(spec)
    assert b',"pinfl":"' in first and b'"tashkent_city",' in first
    assert seal_dict.COMMON_DICTIONARY in first
    assert len(first) <= seal_dict.MAX_DICT
    # No sample answer went into it (that would flatter the bench).
    sample = load_sample("address_registration")
    for value in ("Tursunova", "40203952711183", "AB7654321", "Qatortol"):
        assert value in canonical_json(sample)
        assert value.encode() not in first
    # And it helps: the sample compresses smaller with it than with the common part only.
    body = canonical_json(sample)
    assert len(sealing.compress(body, first)) < len(
        sealing.compress(body, seal_dict.COMMON_DICTIONARY)
    )


def test_a_blob_made_with_another_dictionary_does_not_open_with_this_one() -> None:
    key = sealkit.KEY
    item = ("00000000-0000-4000-8000-000000000003", "f", "1")
    blob = sealing.seal_payload(key, '{"a":1}', *item, b"dictionary one", code="C")
    with pytest.raises(sealing.SealError):
        sealing.open_payload(sealkit.PRIVATE, blob, *item, (b"dictionary two",), code="C")
    opened = sealing.open_payload(sealkit.PRIVATE, blob, *item, (b"x", b"dictionary one"), code="C")
    assert opened == '{"a":1}'


def test_no_key_no_submit_and_the_answers_stay_in_the_draft(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(seal_store.ENV_KEY_FILE)
    with Store.open(data_dir) as store:
        key = drafts.new_key()
        draft = store.save_draft(None, key, "f", "1", "uz_Latn", {"a": 1}, "a").id
        with pytest.raises(seal_store.NoSealingKey) as err:
            store.submit(None, {"a": 1}, "uz_Latn", form_id="f", form_version="1", draft_id=draft)
        assert "sealing key" in err.value.message("en")
        assert store.queue() == [] and store.load_draft(draft, key) is not None


def test_a_key_file_must_verify(data_dir: Path) -> None:
    doc = json.loads(sealkit.KEY_FILE_TEXT)
    doc["sealing_key"]["signature"] = sealkit.KEY["signature"][:-4] + "AAA="
    with Store.open(data_dir) as store, store.transaction() as db:
        with pytest.raises(seal_store.KeyFileRefused):
            seal_store.install(db, json.dumps(doc).encode())
        with pytest.raises(seal_store.KeyFileRefused):
            seal_store.install(db, b"not json")
        installed = seal_store.install(db, sealkit.KEY_FILE_TEXT.encode())
    assert installed["key_id"] == sealkit.KEY_ID


def test_no_clear_text_in_the_database_or_wal_after_submit(data_dir: Path) -> None:
    marker_name, marker_pin = "Zzyzxova Markerxon", "39912319999999"
    specs = {}
    with Store.open(data_dir) as store:
        for path in bundled_form_files():
            form = load_form_file(path)
            specs[form.id] = form.spec
            try:
                sample = load_sample(path.stem)
            except CatalogError:  # a form without a sample
                continue
            answers = {**sample, "full_name": marker_name, "pinfl": marker_pin}
            store.submit(form, answers, "uz_Latn")
        for row in store.queue(include_payload=True):
            assert sealkit.open_row(row, specs[row["form_id"]])["pinfl"] == marker_pin
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert db_path(data_dir) in files
    for path in files:
        data = path.read_bytes()
        for marker in (marker_name, marker_pin):
            assert marker.encode("utf-8") not in data, path
            assert marker.encode("utf-16-le") not in data, path
            assert marker.encode("utf-16-be") not in data, path
    conn = sqlite3.connect(db_path(data_dir))
    kinds = {r[0] for r in conn.execute("SELECT typeof(payload) FROM outbox")}
    conn.close()
    assert kinds == {"blob"}
    assert os.environ.get(seal_store.ENV_KEY_FILE)


def test_kiosk_submit_without_a_key_says_so_and_queues_nothing(run_kiosk, data_dir: Path) -> None:
    from tests.conftest import REPO_ROOT

    sample = REPO_ROOT / "kiosk" / "forms_bundled" / "address_registration.sample.json"
    args = ("submit", "--form", "address_registration", "--answers", str(sample))
    refused = run_kiosk(*args, env={seal_store.ENV_KEY_FILE: None})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "no portal sealing key" in refused.stderr and "Traceback" not in refused.stderr
    with Store.open(data_dir) as store:
        assert store.queue() == []
    done = run_kiosk(*args)  # with the installation's key (tests/sealkit.py)
    assert done.returncode == 0, done.stderr

"""One canonical JSON for kiosk and portal.

The content hash the kiosk stores at submit must be the one the portal recomputes from
the item it receives: the portal tells a resend (``duplicate``) from a different
submission under the same id (``conflict``) by comparing them. A payload on which
they disagreed would be refused as tampered, or a resend taken for a conflict.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import outbox, tracking
from kiosk.settings import DEVICE_PREFIX, put_setting
from kiosk.store import Store
from kiosk.wire import canonical_json, content_hash, json_problem, loads
from sync import wire
from sync.backoff import retry_delay
from sync.client import PortalClient
from sync.portal.rules import parse_batch
from sync.portal.store import PortalStore
from tests import sealkit

FORM = "wire_form"
UZBEK = "ʻʼ'`‘’ oʻgʻ Oʻzbekiston maʼlumot"
CYRILLIC = "ўқғҳЎҚҒҲ Ўзбекистон маълумот ёъьщы"
NOT_FINITE = (math.nan, math.inf, -math.inf)

texts = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)), st.sampled_from(UZBEK + CYRILLIC)
    ),
    max_size=12,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=16,
)
payloads = st.dictionaries(texts, values, max_size=6)


class Link:
    """A kiosk Store and the reference portal's store, joined by the real client.

    The client's request bytes reach the portal's own body parsing and ingest, as the
    batch endpoint runs them (only the HTTP server is left out).
    """

    def __init__(self, root: Path) -> None:
        self.store = Store.open(root / "kiosk")
        sealkit.seed_portal(root / "portal")  # the kiosk seals to the test key
        self.portal = PortalStore(root / "portal")
        self.portal.add_form(FORM, "1", "", {"id_string": FORM}, "test")
        code = self.portal.create_enrolment_code("kiosk")
        # Registered as `sync.enrolment.enroll` does; the kiosk then makes its codes with
        # the assigned prefix (a pre-enrolment code would need a claim).
        device = self.store.device_id
        enrolled = self.portal.enroll(code, "kiosk", device, tracking.prefix_from_id(device))
        assert enrolled is not None
        with self.store.transaction() as db:
            put_setting(db, DEVICE_PREFIX, enrolled["device_prefix"])
        self.device_id = enrolled["device_id"]
        self.client = PortalClient(
            "http://localhost", enrolled["token"], transport=httpx.MockTransport(self._receive)
        )

    def _receive(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"{wire.API}/submissions/batch"
        assert request.headers["content-encoding"] == "gzip"
        items = parse_batch(gzip.decompress(request.content))
        return httpx.Response(
            200, json={"results": self.portal.ingest(self.device_id, items, "sync")}
        )

    def close(self) -> None:
        self.client.close()
        self.portal.close()
        self.store.close()


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Link]:
    joined = Link(tmp_path_factory.mktemp("wire"))
    yield joined
    joined.close()


def _only_queued_row(store: Store) -> outbox.Row:
    rows = [row for batch in outbox.iter_batches(store.db, None, 10, 1 << 62) for row in batch]
    assert len(rows) == 1
    return rows[0]


@settings(max_examples=60, deadline=None)
@given(payload=payloads)
def test_kiosk_and_portal_agree_on_the_content_hash(link: Link, payload: dict[str, Any]) -> None:
    sub = link.store.submit(None, payload, "uz_Latn", form_id=FORM, form_version="1")
    row = _only_queued_row(link.store)
    item = row.item()  # exactly what the sync engine sends
    blob = link.store.db.execute("SELECT payload FROM outbox WHERE id = ?", [sub.id]).fetchone()[0]
    assert hashlib.sha256(blob).hexdigest() == sub.content_hash  # the sealed blob's hash

    first = link.client.send_batch([item]).results
    outbox.apply_results(
        link.store, [row], first, 0, retry_delay()
    )  # settled: the next example starts empty
    assert [r["outcome"] for r in first] == ["accepted"], first
    stored = link.portal.conn.execute(
        "SELECT payload, content_hash FROM submissions WHERE id = ?", (sub.id,)
    ).fetchone()
    kept = link.store.db.execute("SELECT payload FROM outbox WHERE id = ?", [sub.id]).fetchone()
    assert (stored["payload"], stored["content_hash"]) == (
        canonical_json(payload),
        sub.content_hash,
    )
    assert kept[0] == ""  # delivered: the kiosk keeps no copy (issue 13)

    again = link.client.send_batch([item]).results
    assert [r["outcome"] for r in again] == ["duplicate"], again

    key = "\u0000changed"
    changed = {**payload, key: not payload.get(key)}  # differs, whatever was there
    other = sealkit.reseal(item, changed)
    assert [r["outcome"] for r in link.client.send_batch([other]).results] == ["conflict"]


def test_canonical_form_is_unchanged() -> None:
    """Hashes already stored (outbox, portal, audit chain) must stay valid."""
    payload = {
        "full_name": "Oʻgʻiloy Қодирова",
        "pinfl": "31507951234567",
        "n": 2,
        "x": [1.5, None, True, {"b": "ʼ", "a": -0.0}],
    }
    text = '{"full_name":"Oʻgʻiloy Қодирова","n":2,"pinfl":"31507951234567","x":[1.5,null,true,{"a":-0.0,"b":"ʼ"}]}'
    assert canonical_json(payload) == text
    assert content_hash(payload) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (
        content_hash(payload) == "4e30b6403f3e8e358e1e2cf2c4c22ce6d43f0549cbcf352f705e51142c5c4ace"
    )


def test_dates_are_iso_text_and_other_objects_refused() -> None:
    assert canonical_json({"d": date(2020, 1, 2)}) == '{"d":"2020-01-02"}'
    assert canonical_json([datetime(2020, 1, 2, 3, 4)]) == '["2020-01-02T03:04:00"]'
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
    with pytest.raises(TypeError):
        canonical_json({"x": {1, 2}})


@pytest.mark.parametrize("bad", NOT_FINITE, ids=["nan", "inf", "-inf"])
def test_nan_and_infinity_are_refused_when_written(link: Link, bad: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": [1, {"b": bad}]})
    with pytest.raises(ValueError):
        content_hash({"a": bad})
    before = link.store.queue_counts()
    with pytest.raises(ValueError):
        link.store.submit(None, {"a": bad}, "ru", form_id=FORM, form_version="1")
    assert link.store.queue_counts() == before


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_when_read(link: Link, token: str) -> None:
    with pytest.raises(ValueError):
        loads(f'{{"a": [{token}]}}')
    assert loads('{"a": [1.5, "NaN"]}') == {"a": [1.5, "NaN"]}
    item = {
        "id": "00000000-0000-4000-8000-000000000001",
        "tracking_code": "X",
        "form_id": FORM,
        "form_version": "1",
        "lang": "ru",
        "payload": {"a": 1},
        "content_hash": "0" * 64,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    # In a batch it is that item's refusal (item.value, at ingest), not the batch's.
    body = canonical_json({"items": [item]}).replace('{"a":1}', f'{{"a":{token}}}')
    assert len(parse_batch(body.encode())) == 1


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"a": 1e999999}', "number"),
        ('{"a": [-1E+400]}', "number"),
        ('{"a": NaN}', "number"),
        ('{"a": "\\ud800"}', "text"),
        ('{"a": ["x\\udcff"]}', "text"),
        ('{"\\udfff": 1}', "text"),
        ('["\\ude00\\ud83d"]', "text"),  # a pair in the wrong order is two lone halves
    ],
)
def test_out_of_range_numbers_and_lone_surrogates_are_refused(
    link: Link, text: str, problem: str
) -> None:
    """The review: ``1e999999`` parses to inf and ``"\\ud800"`` to a lone surrogate;
    neither can be hashed, so one rule (`json_problem`) refuses both, everywhere."""
    with pytest.raises(ValueError):
        loads(text)
    value = loads(text, check=False)
    assert json_problem(value) == problem
    with pytest.raises(ValueError):
        canonical_json(value)
    with pytest.raises(ValueError):
        content_hash(value)
    before = link.store.queue_counts()
    with pytest.raises(ValueError):
        link.store.submit(None, {"x": value}, "ru", form_id=FORM, form_version="1")
    assert link.store.queue_counts() == before


def test_valid_unicode_and_large_finite_numbers_pass() -> None:
    text = '{"a": "\\ud83d\\ude00 жz", "b": 1e308, "c": -0.0, "d": 12345678901234567890}'
    value = loads(text)
    assert json_problem(value) is None and value["a"] == "\U0001f600 жz"  # type: ignore[index]
    assert (
        canonical_json(value)
        == '{"a":"\U0001f600 жz","b":1e+308,"c":-0.0,"d":12345678901234567890}'
    )

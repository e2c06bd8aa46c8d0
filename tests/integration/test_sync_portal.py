"""The reference portal's HTTP API: strict input checks, ETags, OpenAPI, no 500s."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from kiosk import tracking
from kiosk.wire import ALPHABET, canonical_json
from sync import bundle, wire
from sync.portal import openapi
from sync.portal.process import PortalProcess, create_enrolment_code
from tests import sealkit
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_VERSION, Kiosk


@pytest.fixture
def api(kiosk: Kiosk) -> Iterator[httpx.Client]:
    with kiosk.store() as store:
        token = store.get_setting("portal_token")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=kiosk.portal.url + wire.API, headers=headers, timeout=30) as c:
        yield c


def item(n: int = 0, prefix: str = "ABC", **changes) -> dict:
    payload = {"full_name": f"Test {n}", "n": n}
    doc = {
        "id": str(uuid.uuid4()),
        "tracking_code": f"{prefix}{n:07d}",  # the length of an enrolled code
        "form_id": TEST_FORM_ID,
        "form_version": TEST_FORM_VERSION,
        "lang": "uz_Latn",
        "payload": payload,
        "created_at": "2026-11-27T08:00:00+00:00",
    }
    # Sealed (tests/sealkit.py): what the seal binds is changed first, the rest after.
    binds = ("id", "tracking_code", "form_id", "form_version", "payload")
    bound = {k: v for k, v in changes.items() if k in binds}
    return {
        **sealkit.seal_item({**doc, **bound}),
        **{k: v for k, v in changes.items() if k not in bound},
    }


def post_batch(api: httpx.Client, body: bytes, encoding: str | None = "gzip") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return api.post("/submissions/batch", content=body, headers=headers)


def test_health_and_openapi(portal: PortalProcess) -> None:
    assert httpx.get(portal.url + "/api/v2/health").json() == {"status": "ok", "protocol": 2}
    spec = httpx.get(portal.url + "/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("health", "devices/enroll", "catalog", "submissions/batch", "status", "bundles"):
        assert f"/api/v2/{path}" in paths
    assert not [path for path in paths if path.startswith("/api/v1")]


def test_committed_openapi_matches_the_served_one(portal: PortalProcess) -> None:
    served = httpx.get(portal.url + "/openapi.json").json()
    assert openapi.render(served) == openapi.PATH.read_text(encoding="utf-8"), (
        "regenerate with: python -m sync.portal.openapi"
    )


def test_enrolment_codes_are_one_time(portal: PortalProcess) -> None:
    url = portal.url + wire.API + "/devices/enroll"
    code = create_enrolment_code(portal.data_dir)
    first = httpx.post(url, json={"code": code.lower(), "name": "k1"})
    assert first.status_code == 200
    body = first.json()
    assert len(body["device_prefix"]) == 3 and set(body["device_prefix"]) <= set(ALPHABET)
    assert httpx.post(url, json={"code": code, "name": "k2"}).status_code == 403
    assert httpx.post(url, json={"code": "NOPE-NOPE", "name": "k"}).status_code == 403
    assert httpx.post(url, content=b"{not json").status_code == 422
    # Prefixes differ between devices, so tracking codes are unique across kiosks.
    other = httpx.post(url, json={"code": create_enrolment_code(portal.data_dir), "name": "k3"})
    assert other.json()["device_prefix"] != body["device_prefix"]


def test_auth_required(portal: PortalProcess) -> None:
    for method, path in (("GET", "catalog"), ("GET", "status"), ("POST", "submissions/batch")):
        response = httpx.request(
            method, f"{portal.url}{wire.API}/{path}", headers={"Authorization": "Bearer wrong"}
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_per_item_outcomes(api: httpx.Client, kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        p = store.device_prefix
    good = item(1, p)
    items = [
        good,
        dict(good),  # the same item twice in one batch: the second is a duplicate
        {**item(2, p), "id": good["id"], "tracking_code": tracking.new_code(p)},  # conflict
        item(3, p, payload=["not", "an", "object"]),
        item(4, p, content_hash="0" * 64),
        item(5, p, form_version="999"),
        item(6, p, id="not-a-uuid"),
        item(7, p, tracking_code=good["tracking_code"]),  # code taken by another id
        "not an object",
        item(8, p, lang="xx"),
    ]
    response = post_batch(api, gzip.compress(canonical_json({"items": items}).encode()))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    outcomes = [r["outcome"] for r in results]
    assert outcomes == ["accepted", "duplicate", "conflict"] + ["rejected"] * 7
    assert results[0]["application_number"] == results[1]["application_number"]
    codes = [(r["code"], r["params"]) for r in results[3:]]
    assert codes == [
        ("item.field", {"field": "sealed"}),  # opened: answers that are not an object
        ("item.hash", {}),
        ("item.unknown_form", {"form_id": TEST_FORM_ID, "form_version": "999"}),
        ("item.id", {}),
        ("item.code_taken", {}),
        ("item.id", {}),
        ("item.lang", {"lang": "xx", "accepted": "uz_Latn, uz_Cyrl, ru, en, kaa"}),
    ]
    assert all(r["reason"] for r in results[3:])
    stats = kiosk.portal_stats()
    assert stats == {**stats, "submissions": 1, "duplicates": 1, "conflicts": 1, "rejected": 7}


# Bodies are made lazily and tests named by hand: a multi-megabyte parameter would end
# up in the test id (and in PYTEST_CURRENT_TEST, which subprocesses inherit).
MALFORMED: dict[str, tuple[Callable[[], bytes], str | None, int]] = {
    "not-gzip": (lambda: b"not gzip at all", "gzip", 400),
    "not-json": (lambda: gzip.compress(b"{not json"), "gzip", 400),
    "items-not-list": (lambda: gzip.compress(b'{"items": 5}'), "gzip", 400),
    "not-object": (lambda: gzip.compress(b"[1, 2]"), "gzip", 400),
    "truncated-gzip": (lambda: gzip.compress(b'{"items": []}')[:-6], "gzip", 400),
    "too-deep": (lambda: gzip.compress(b"[" * 200_000 + b"]" * 200_000), "gzip", 400),
    "bad-utf8": (lambda: gzip.compress(b'{"items": ["\xff"]}'), "gzip", 400),
    "brotli": (lambda: b'{"items": []}', "br", 415),
    "identity-ok": (lambda: b'{"items": []}', None, 200),
    # A gzip bomb: 64 MiB of zeros in about 64 KiB.
    "gzip-bomb": (lambda: gzip.compress(b"\0" * (64 * 1024 * 1024)), "gzip", 413),
    "oversized": (lambda: b" " * (wire.MAX_BODY_BYTES + 1), None, 413),
    "too-many-items": (
        lambda: gzip.compress(canonical_json({"items": [{}] * 1001}).encode()),
        "gzip",
        413,
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_bodies_get_4xx_and_store_nothing(
    api: httpx.Client, kiosk: Kiosk, case: str
) -> None:
    make, encoding, status = MALFORMED[case]
    response = post_batch(api, make(), encoding)
    assert response.status_code == status, response.text
    stats = kiosk.portal_stats()
    assert stats["submissions"] == stats["rejected"] == 0


def test_catalog_etag(api: httpx.Client) -> None:
    first = api.get("/catalog")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.json()["etag"] == etag.strip('"')
    assert [f["form_id"] for f in first.json()["forms"]] == [TEST_FORM_ID]
    assert api.get("/catalog", headers={"If-None-Match": etag}).status_code == 304
    assert api.get("/catalog", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert api.get("/catalog", headers={"If-None-Match": '"other"'}).status_code == 200


def test_status_query_checked(api: httpx.Client) -> None:
    assert api.get("/status", params={"since": -1}).status_code == 422
    assert api.get("/status", params={"since": "abc"}).status_code == 422
    assert api.get("/status", params={"since": 0}).json() == {
        "changes": [],
        "cursor": 0,
        "more": False,
    }


def test_bundle_endpoint_refuses_garbage(api: httpx.Client) -> None:
    response = api.post("/bundles", content=b"garbage")
    assert response.status_code == 422
    bomb = gzip.compress(b"\0" * (bundle.MAX_DECOMPRESSED + 1024))
    assert api.post("/bundles", content=bomb).status_code == 413


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors(kiosk: Kiosk) -> None:
    """Generated requests against every operation in /openapi.json, a few each."""
    with kiosk.store() as store:
        token = store.get_setting("portal_token")
    schema = schemathesis.openapi.from_url(kiosk.portal.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    failures: list[str] = []

    def fuzz(operation, auth: dict[str, str]) -> None:
        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(base_url=kiosk.portal.url, headers=auth, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code}")

        check()

    from sync.portal.store import PortalStore

    admin = PortalStore(kiosk.portal.data_dir)
    try:  # a reviewer's token too: the staff endpoints' handlers get fuzzed past auth
        staff = admin.add_staff("fuzzer", "reviewer")
    finally:
        admin.close()
    for operation in operations:
        fuzz(operation, {"Authorization": f"Bearer {token}"})
        fuzz(operation, {"Authorization": f"Bearer {staff}"})
        fuzz(operation, {})
    assert failures == []
    assert httpx.get(kiosk.portal.url + wire.API + "/health").status_code == 200

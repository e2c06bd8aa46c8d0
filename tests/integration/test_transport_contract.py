"""The `Transport` contract, run against both transports (huey's StorageTests pattern).

`TransportContract` holds the tests; each subclass says how to reach a portal: over
HTTP to a real `kiosk portal serve` on 127.0.0.1, or in-process over the portal's
storage. What the sync engine sees must not depend on which one it was given.
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk import audit, seal_dict, sealing, signing, tracking
from kiosk.wire import now_iso
from sync.client import PortalClient
from sync.portal.local import LocalTransport
from sync.portal.process import PortalProcess, start_portal
from sync.portal.storage import LOOKUP_SOURCE_LIMIT, PortalStorage
from sync.portal.store import PortalStore
from sync.transport import AuthError, Claim, RequestRejected, RetryableError, Transport
from tests import sealkit
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_SPEC, TEST_FORM_VERSION, add_test_form

Connect = Callable[[str | None], Transport]


def item(prefix: str, n: int = 0, **changes: Any) -> dict[str, Any]:
    """A valid batch item for the test form, with its own id and a code with ``prefix``."""
    payload = {"full_name": f"Aliyev Vali {n}", "n": n}
    base = {
        "id": str(uuid.uuid4()),
        "tracking_code": tracking.new_code(prefix),
        "form_id": TEST_FORM_ID,
        "form_version": TEST_FORM_VERSION,
        "lang": "uz_Latn",
        "payload": payload,
        "created_at": now_iso(),
        "consent": True,
        "operator_id": None,
    }
    # What the seal binds (id, code, form, answers) is changed before sealing, the rest after.
    binds = ("id", "tracking_code", "form_id", "form_version", "payload")
    bound = {k: v for k, v in changes.items() if k in binds}
    return {
        **sealkit.seal_item({**base, **bound}),
        **{k: v for k, v in changes.items() if k not in bound},
    }


class TransportContract:
    """Subclasses provide the fixtures ``admin`` (the portal's storage) and ``connect``."""

    @pytest.fixture
    def enrolment(self, admin: PortalStorage, connect: Connect) -> dict[str, str]:
        answer = connect(None).enroll(
            admin.create_enrolment_code("contract kiosk"), "contract kiosk"
        )
        assert set(answer) >= {"device_id", "token", "device_prefix"}
        return answer

    @pytest.fixture
    def enrolled(self, enrolment: dict[str, str], connect: Connect) -> Transport:
        return connect(enrolment["token"])

    @pytest.fixture
    def prefix(self, enrolment: dict[str, str]) -> str:
        return enrolment["device_prefix"]

    def test_accepted(self, enrolled: Transport, prefix: str) -> None:
        sent = item(prefix)
        result = enrolled.send_batch([sent])
        assert result.bytes_sent > 0
        [answer] = result.results
        assert (answer["index"], answer["id"], answer["outcome"]) == (0, sent["id"], "accepted")
        assert answer["application_number"].startswith("MK-")

    def test_duplicate_keeps_the_application_number(self, enrolled: Transport, prefix: str) -> None:
        sent = item(prefix)
        first = enrolled.send_batch([sent]).results[0]
        again = enrolled.send_batch([sent]).results[0]
        assert again["outcome"] == "duplicate"
        assert again["application_number"] == first["application_number"]

    def test_conflict_on_the_same_id_with_other_answers(
        self, enrolled: Transport, prefix: str
    ) -> None:
        sent = item(prefix, 1)
        enrolled.send_batch([sent])
        changed = {"full_name": "Someone else", "n": 2}
        other = sealkit.reseal(sent, changed)
        [answer] = enrolled.send_batch([other]).results
        assert (answer["outcome"], answer["code"]) == ("conflict", "item.conflict")
        assert answer["reason"] == "A different submission with this id was already received."

    def test_rejected_items_say_why_and_the_rest_is_applied(
        self, enrolled: Transport, prefix: str
    ) -> None:
        good = item(prefix)
        bad_hash = item(prefix, content_hash="0" * 64)
        unknown = item(prefix, form_id="no_such_form")
        results = enrolled.send_batch([bad_hash, good, unknown]).results
        assert [r["outcome"] for r in results] == ["rejected", "accepted", "rejected"]
        assert results[0]["code"] == "item.hash" and "content hash" in results[0]["reason"]
        assert (results[2]["code"], results[2]["params"]) == (
            "item.unknown_form",
            {"form_id": "no_such_form", "form_version": TEST_FORM_VERSION},
        )

    def test_sealed_items_open_and_others_are_refused_one_by_one(
        self, enrolled: Transport, prefix: str, admin: PortalStorage
    ) -> None:
        """Each item is opened with the portal's keys; one it cannot open (sealed to a
        key it never held, damaged, or moved to another item) or sent in clear text is
        refused on its own, with its reason; the rest of the batch is applied."""
        good = item(prefix, 1)
        stranger = X25519PrivateKey.generate()  # a key this portal never held
        public = sealing.public_b64(stranger)
        unknown_key: sealing.SealingKey = {
            **sealkit.KEY,
            "public_key": public,
            "key_id": signing.key_id(sealing.raw_public(stranger)),
        }
        rest = {k: v for k, v in item(prefix, 2).items() if k not in ("sealed", "content_hash")}
        foreign_key = sealkit.seal_item({**rest, "payload": {"n": 2}}, unknown_key)
        damaged = item(prefix, 3)
        raw = bytearray(base64.b64decode(damaged["sealed"]))
        raw[-1] ^= 1
        damaged = {**damaged, "sealed": base64.b64encode(bytes(raw)).decode(), "content_hash": None}
        moved = {**item(prefix, 4), "sealed": good["sealed"], "content_hash": None}
        plain = {k: v for k, v in item(prefix, 5).items() if k != "sealed"}
        plain["payload"] = {"full_name": "Clear Text", "n": 5}
        results = enrolled.send_batch([foreign_key, damaged, moved, plain, good]).results
        assert [(r["outcome"], r.get("code")) for r in results] == [
            ("rejected", "sealed.unopenable"),
            ("rejected", "sealed.unopenable"),
            ("rejected", "sealed.unopenable"),
            ("rejected", "sealed.plaintext"),
            ("accepted", None),
        ]
        assert "does not hold" in results[0]["params"]["detail"]
        assert isinstance(admin, PortalStore)
        with admin.transaction() as conn:
            row = conn.execute(
                "SELECT payload FROM submissions WHERE tracking_code = ?",
                (good["tracking_code"],),
            ).fetchone()
        assert row is not None
        stored = row["payload"]
        assert json.loads(stored) == {"full_name": "Aliyev Vali 1", "n": 1}

    def test_hostile_blobs_are_refused_one_by_one_and_never_echoed(
        self, enrolled: Transport, prefix: str
    ) -> None:
        """Sealed to the portal's own key but inflating far past the payload bound (a
        zip bomb: inflation stops at the bound, before it allocates more), cut short,
        not base64, or an empty blob: each refused on its own with its reason, the
        batch goes on, and no refusal repeats anything of what was sealed."""
        bomb_item = item(prefix, 1)
        zdict = seal_dict.COMMON_DICTIONARY
        packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
        huge = b'{"full_name":"' + b"Bombov " * (sealing.MAX_PLAIN // 2) + b'"}'
        packed = packer.compress(huge) + packer.flush()
        assert len(packed) < sealing.MAX_PLAIN // 64 < len(huge) // 8
        names = (bomb_item["id"], bomb_item["form_id"], bomb_item["form_version"])
        aad = sealing.item_aad(*names, zdict, code=bomb_item["tracking_code"])
        blob = sealing.seal(sealing.raw_public(sealkit.PRIVATE), packed, aad)
        bomb = {**bomb_item, "sealed": base64.b64encode(blob).decode(), "content_hash": None}
        cut = item(prefix, 2)
        raw = base64.b64decode(cut["sealed"])
        cut = {**cut, "sealed": base64.b64encode(raw[: len(raw) // 2]).decode()}
        cut["content_hash"] = None
        garbage = {**item(prefix, 3), "sealed": "not base64 at all!", "content_hash": None}
        empty = {**item(prefix, 4), "sealed": "", "content_hash": None}
        good = item(prefix, 5)
        results = enrolled.send_batch([bomb, cut, garbage, empty, good]).results
        assert [(r["outcome"], r.get("code")) for r in results] == [
            ("rejected", "sealed.unopenable"),
            ("rejected", "sealed.unopenable"),
            ("rejected", "item.field"),
            ("rejected", "sealed.unopenable"),
            ("accepted", None),
        ]
        assert "decompressed" in results[0]["params"]["detail"]
        assert "Bombov" not in json.dumps(results) and "Aliyev" not in json.dumps(results)

    def test_another_devices_items_are_rejected_and_its_own_arrive(
        self,
        enrolled: Transport,
        enrolment: dict[str, str],
        prefix: str,
        admin: PortalStorage,
        connect: Connect,
    ) -> None:
        # A's queued items (not sent yet), as B read them off A's USB stick.
        queued = [item(prefix, n) for n in range(3)]
        other = connect(None).enroll(admin.create_enrolment_code("kiosk b"), "kiosk b")
        b = connect(other["token"])
        edited = sealkit.reseal(queued[0], {"full_name": "Forged", "n": 0})
        squat = item(prefix, 9)  # B's own id, a code with A's prefix
        results = b.send_batch([*queued, edited, squat]).results
        assert [(r["outcome"], r["code"]) for r in results] == [
            ("rejected", "item.foreign_code")
        ] * 5
        assert results[4]["params"] == {"tracking_code": squat["tracking_code"]}
        a_id, b_id = enrolment["device_id"], other["device_id"]
        assert admin.stats(a_id)["submissions"] == admin.stats(b_id)["submissions"] == 0
        assert admin.stats(b_id)["rejected"] == 5
        # A's own sync: all accepted, with A's answers.
        mine = enrolled.send_batch(queued).results
        assert [r["outcome"] for r in mine] == ["accepted"] * 3
        assert admin.stats(a_id)["submissions"] == 3

    def test_ids_are_scoped_to_the_device(
        self, enrolled: Transport, prefix: str, admin: PortalStorage, connect: Connect
    ) -> None:
        sent = item(prefix)
        [first] = enrolled.send_batch([sent]).results
        other = connect(None).enroll(admin.create_enrolment_code("kiosk b"), "kiosk b")
        b = connect(other["token"])
        same_id = item(other["device_prefix"], 5, id=sent["id"])
        assert b.send_batch([same_id]).results[0]["outcome"] == "accepted"  # not a conflict
        [again] = enrolled.send_batch([sent]).results
        assert (again["outcome"], again["application_number"]) == (
            "duplicate",
            first["application_number"],
        )

    def test_the_pre_enrolment_prefix_is_registered_and_checked(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        device_id = str(uuid.uuid4())
        derived = tracking.prefix_from_id(device_id)
        code = admin.create_enrolment_code("kiosk")
        with pytest.raises(RequestRejected) as refused:
            connect(None).enroll(code, "k", device_id, tracking.prefix_from_id("someone else"))
        assert (refused.value.http_status, refused.value.reason_code) == (422, "enrol.prefix")
        before = item(derived, 1)  # made before enrolment: claimed at enrolment
        unclaimed = item(derived, 3)  # the derived prefix alone grants nothing
        claim: Claim = {
            "id": before["id"],
            "tracking_code": before["tracking_code"],
            "content_hash": before["content_hash"],
        }
        # The code was not spent by the refusal above.
        answer = connect(None).enroll(code, "k", device_id, derived, [claim])
        assert answer["device_id"] == device_id
        assert answer.get("refused_claims", []) == []
        kiosk = connect(answer["token"])
        after = item(answer["device_prefix"], 2)
        results = kiosk.send_batch([before, after, unclaimed]).results
        assert [(r["outcome"], r.get("code")) for r in results] == [
            ("accepted", None),
            ("accepted", None),
            ("rejected", "item.foreign_code"),
        ]

    def test_claims_are_first_come_first_served_and_refusals_reported(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        shared = item(tracking.prefix_from_id(first), 1)
        claim: Claim = {
            "id": shared["id"],
            "tracking_code": shared["tracking_code"],
            "content_hash": shared["content_hash"],
        }
        code = admin.create_enrolment_code("first")
        answer = connect(None).enroll(code, "k", first, tracking.prefix_from_id(first), [claim])
        assert answer.get("refused_claims", []) == []
        # The same claim again by the same device (re-enrolment after a crash): harmless.
        again = admin.create_enrolment_code("first", device_id=first)
        answer = connect(None).enroll(again, "k", first, tracking.prefix_from_id(first), [claim])
        assert answer.get("refused_claims", []) == []
        # Another device cannot take it (nor claim a code that is not its own shape).
        other = admin.create_enrolment_code("second")
        theirs = connect(None).enroll(other, "k", second, tracking.prefix_from_id(second), [claim])
        refusals = theirs.get("refused_claims", [])
        assert [(r["tracking_code"], r["code"]) for r in refusals] == [
            (shared["tracking_code"], "claim.invalid")
        ]
        results = connect(theirs["token"]).send_batch([shared]).results
        assert [(r["outcome"], r.get("code")) for r in results] == [
            ("rejected", "item.foreign_code")
        ]
        results = connect(answer["token"]).send_batch([shared]).results
        assert [r["outcome"] for r in results] == ["accepted"]

    def test_too_many_items_is_refused_whole(self, enrolled: Transport) -> None:
        with pytest.raises(RequestRejected) as refused:
            enrolled.send_batch([{"id": "x"}] * 1001)
        assert refused.value.http_status == 413
        assert refused.value.reason_code == "batch.too_many_items"
        assert "1000" in refused.value.message("ru")

    def test_status_pages_with_a_cursor(
        self, enrolled: Transport, prefix: str, admin: PortalStorage, connect: Connect
    ) -> None:
        sent = [item(prefix, n) for n in range(3)]
        enrolled.send_batch(sent)
        for one in sent:
            admin.set_status(one["tracking_code"], "approved", note="ok")
        first = enrolled.status(0, limit=4)
        assert len(first["changes"]) == 4 and first["more"] is True
        second = enrolled.status(first["cursor"], limit=4)
        assert len(second["changes"]) == 2 and second["more"] is False
        assert second["cursor"] > first["cursor"]
        changes = first["changes"] + second["changes"]
        assert [c["status"] for c in changes] == ["received"] * 3 + ["approved"] * 3
        assert {c["tracking_code"] for c in changes} == {s["tracking_code"] for s in sent}
        assert changes[-1]["note"] == "ok" and changes[-1]["reason_code"] is None
        rest = enrolled.status(second["cursor"])
        assert rest == {"changes": [], "cursor": second["cursor"], "more": False}
        # Another device sees none of them.
        other = connect(None).enroll(admin.create_enrolment_code("other kiosk"), "other kiosk")
        assert connect(other["token"]).status(0)["changes"] == []

    def test_status_lookup_answers_any_code_with_status_fields_only(
        self, enrolled: Transport, prefix: str, admin: PortalStorage, connect: Connect
    ) -> None:
        """Issue 14, finding 6: a live look-up of any code (another kiosk's too), status
        fields only, counted per source: past the limit a 429 with its reason code."""
        sent = item(prefix)
        enrolled.send_batch([sent])
        admin.set_status(
            sent["tracking_code"],
            "needs_info",
            note="Bring your passport",
            reason_code="decision.documents_missing",
        )
        other = connect(None).enroll(admin.create_enrolment_code("other kiosk"), "other kiosk")
        seen = connect(other["token"]).lookup_status(sent["tracking_code"].lower())
        status_fields = {"tracking_code", "found", "status", "application_number", "updated_at"}
        # With the decision's (issue 16, docs/appeals.md): its reason, no note, no answers.
        decision_fields = {"reason_code", "automated", "kind", "deadline_at", "stalled"}
        assert set(seen) == status_fields | decision_fields | {"appealable"}
        assert (seen["reason_code"], seen["automated"], seen["stalled"]) == (
            "decision.documents_missing",
            False,
            False,
        )
        assert (seen["kind"], seen["deadline_at"], seen["appealable"]) == (
            "application",
            None,
            False,
        )
        assert (seen["tracking_code"], seen["found"], seen["status"]) == (
            sent["tracking_code"],
            True,
            "needs_info",
        )
        assert seen["application_number"].startswith("MK-") and seen["updated_at"]
        assert "Bring your passport" not in json.dumps(seen)  # no note: it may be personal
        missing = enrolled.lookup_status(tracking.new_code(prefix))
        assert (missing["found"], missing["status"]) == (False, None)
        with pytest.raises(AuthError):
            connect("not-a-token").lookup_status(sent["tracking_code"])
        with pytest.raises(RetryableError) as limited:
            for _ in range(LOOKUP_SOURCE_LIMIT):
                enrolled.lookup_status(sent["tracking_code"])
        assert limited.value.reason_code == "status.rate_limited"
        assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 600
        assert "min" in limited.value.message("en") and "Too many" in limited.value.message("en")

    def test_catalog_etag_and_not_modified(self, enrolled: Transport, admin: PortalStorage) -> None:
        catalog = enrolled.catalog()
        assert catalog is not None
        assert (TEST_FORM_ID, TEST_FORM_VERSION) in {
            (f["form_id"], f["version"]) for f in catalog["forms"]
        }
        assert enrolled.catalog(catalog["etag"]) is None
        version = "v" + uuid.uuid4().hex[:8]
        admin.add_form(
            TEST_FORM_ID, version, "test", {**TEST_FORM_SPEC, "version": version}, "admin"
        )
        newer = enrolled.catalog(catalog["etag"])
        assert newer is not None and newer["etag"] != catalog["etag"]
        assert enrolled.catalog(newer["etag"]) is None

    def test_enrolment_and_catalog_carry_the_signing_keys(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        answer = connect(None).enroll(admin.create_enrolment_code("kiosk"), "signing kiosk")
        pins = {k["key_id"]: k["public_key"] for k in answer.get("signing_keys", [])}
        assert pins == {k["key_id"]: k["public_key"] for k in admin.signing_keys()}
        catalog = connect(answer["token"]).catalog()
        assert catalog is not None
        assert [k["key_id"] for k in catalog["keys"]] == [s["key_id"] for s in admin.key_chain()]
        for form in catalog["forms"]:
            assert signing.form_signature_problem(form, pins) is None

    def test_audit_anchor_links_and_flags(self, enrolled: Transport) -> None:
        first = {"seq": 1, "hash": "1" * 64, "prev_hash": audit.GENESIS}
        second = {"seq": 2, "hash": "2" * 64, "prev_hash": "1" * 64}
        assert enrolled.anchor_audit(2, [first, second]) == {"anchored_seq": 2, "flag": None}
        assert enrolled.anchor_audit(2, [second]) == {"anchored_seq": 2, "flag": None}
        with pytest.raises(RequestRejected) as refused:
            enrolled.anchor_audit(1, [first, second])  # an entry past the head
        assert (refused.value.http_status, refused.value.reason_code) == (422, "body.invalid")
        edited = dict(second, hash="3" * 64)
        assert enrolled.anchor_audit(2, [edited]) == {"anchored_seq": 2, "flag": "rewritten"}

    def test_unknown_or_revoked_token_is_an_auth_failure(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        stranger = connect("not-a-token")
        for call in (
            lambda: stranger.send_batch([item("ABC")]),
            lambda: stranger.status(0),
            lambda: stranger.catalog(),
        ):
            with pytest.raises(AuthError):
                call()
        answer = connect(None).enroll(admin.create_enrolment_code("revoked kiosk"), "revoked kiosk")
        admin.revoke_device(answer["device_id"])
        with pytest.raises(AuthError):
            connect(answer["token"]).send_batch([item(answer["device_prefix"])])

    def test_an_enrolment_code_is_spent_once(self, admin: PortalStorage, connect: Connect) -> None:
        code = admin.create_enrolment_code("first")
        connect(None).enroll(code, "first")
        with pytest.raises(RequestRejected) as refused:
            connect(None).enroll(code, "second")
        assert (refused.value.http_status, refused.value.reason_code) == (403, "enrol.code")
        assert refused.value.message("uz_Latn") == (
            "Roʻyxatdan oʻtish kodi nomaʼlum, ishlatilgan yoki muddati oʻtgan."
        )

    def test_a_known_device_re_enrols_only_with_a_code_made_for_it(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        device_id = str(uuid.uuid4())
        first = connect(None).enroll(admin.create_enrolment_code("victim"), "v", device_id)
        assert (first["device_id"], first["name"]) == (device_id, "victim")
        with pytest.raises(RequestRejected) as refused:
            connect(None).enroll(admin.create_enrolment_code("thief"), "t", device_id)
        assert (refused.value.http_status, refused.value.reason_code) == (
            403,
            "enrol.device_bound",
        )
        assert device_id in refused.value.message("ru")
        assert connect(first["token"]).status(0)["changes"] == []  # the victim still works
        again = connect(None).enroll(admin.create_enrolment_code("v2", device_id), "v", device_id)
        assert (again["device_id"], again["device_prefix"]) == (device_id, first["device_prefix"])
        with pytest.raises(AuthError):
            connect(first["token"]).status(0)

    def test_registry_lookup_answers_the_fields_asked_and_needs_consent(
        self, admin: PortalStorage, enrolled: Transport
    ) -> None:
        """Once-only prefill (docs/once-only.md): the same answers and refusals both ways."""
        from sync.portal import registry
        from sync.portal.registry_synth import make_people
        from sync.portal.store import PortalStore
        from tests.integration.prefillkit import request

        assert isinstance(admin, PortalStore)
        people = make_people(3, seed=9)
        with admin.transaction() as conn:
            registry.load(conn, people)
        asked = request(people[1].pinfl, fields=["person.phone"])
        answer = enrolled.registry_lookup(asked)
        assert answer == {
            "lookup_id": asked["lookup_id"],
            "found": True,
            "values": {"person.phone": people[1].phone},
        }
        with pytest.raises(RequestRejected) as caught:
            enrolled.registry_lookup(request(people[1].pinfl, consent=False))
        assert (caught.value.http_status, caught.value.reason_code) == (403, "registry.consent")
        nobody = request("31503622261234")
        assert enrolled.registry_lookup(nobody)["found"] is False
        outcomes = {r["lookup_id"]: r["outcome"] for r in admin.registry_access_log()}
        assert outcomes[asked["lookup_id"]] == "found"
        assert outcomes[nobody["lookup_id"]] == "not_found"
        assert "refused:registry.consent" in outcomes.values()


class TestHttpTransport(TransportContract):
    """`PortalClient` against a real `kiosk portal serve` (the module's portal)."""

    @pytest.fixture
    def admin(self, portal: PortalProcess) -> Iterator[PortalStorage]:
        store = PortalStore(portal.data_dir)  # a second connection: WAL lets both work
        try:
            yield store
        finally:
            store.close()

    @pytest.fixture
    def connect(self, portal: PortalProcess) -> Iterator[Connect]:
        opened: list[PortalClient] = []

        def make(token: str | None) -> Transport:
            opened.append(PortalClient(portal.url, token))
            return opened[-1]

        yield make
        for client in opened:
            client.close()


class TestLocalTransport(TransportContract):
    """`LocalTransport` over the portal's SQLite storage in this process."""

    @pytest.fixture
    def admin(self, tmp_path: Path) -> Iterator[PortalStorage]:
        add_test_form(tmp_path / "portal")
        store = PortalStore(tmp_path / "portal")
        try:
            yield store
        finally:
            store.close()

    @pytest.fixture
    def connect(self, admin: PortalStorage) -> Connect:
        return lambda token: LocalTransport(admin, token)

    def test_enrolment_text_json_cannot_carry_is_invalid(
        self, admin: PortalStorage, connect: Connect
    ) -> None:
        """As the app's read_json: a lone surrogate in a name or a claim is 422
        body.invalid, the code not spent. (The HTTP client cannot even encode one; the portal answers the same, see
        test_hostile_bodies.)"""
        code = admin.create_enrolment_code("kiosk")
        claim: Claim = {"id": "\udfff", "tracking_code": "A", "content_hash": "0" * 64}
        for name, claims in (("k\ud800", []), ("k", [claim])):
            with pytest.raises(RequestRejected) as refused:
                connect(None).enroll(code, name, claims=claims)
            assert (refused.value.http_status, refused.value.reason_code) == (422, "body.invalid")
        assert connect(None).enroll(code, "k")["token"]


@pytest.fixture(scope="class")
def pg_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PortalProcess, str]]:
    """A real `kiosk portal serve --database postgresql://...` (one per class) and its URL."""
    from tests.pgkit import fresh_database

    folder = tmp_path_factory.mktemp("pg-portal")
    with fresh_database() as dsn:
        sealkit.seed_portal(folder)
        store = PortalStore(folder, database=dsn)
        store.add_form(TEST_FORM_ID, TEST_FORM_VERSION, "test", TEST_FORM_SPEC, "admin")
        store.close()
        process = start_portal(folder, "127.0.0.1", 0, "--no-bundled", "--database", dsn)
        try:
            yield process, dsn
        finally:
            process.stop()


class TestHttpTransportPostgres(TransportContract):
    """`PortalClient` against `kiosk portal serve` on PostgreSQL."""

    @pytest.fixture
    def admin(self, pg_portal: tuple[PortalProcess, str]) -> Iterator[PortalStorage]:
        process, dsn = pg_portal
        store = PortalStore(process.data_dir, database=dsn)
        try:
            yield store
        finally:
            store.close()

    @pytest.fixture
    def connect(self, pg_portal: tuple[PortalProcess, str]) -> Iterator[Connect]:
        opened: list[PortalClient] = []

        def make(token: str | None) -> Transport:
            opened.append(PortalClient(pg_portal[0].url, token))
            return opened[-1]

        yield make
        for client in opened:
            client.close()


class TestLocalTransportPostgres(TestLocalTransport):
    """`LocalTransport` over the PostgreSQL storage in this process."""

    @pytest.fixture
    def admin(self, tmp_path: Path, pg_database: str) -> Iterator[PortalStorage]:
        sealkit.seed_portal(tmp_path / "portal")
        store = PortalStore(tmp_path / "portal", database=pg_database)
        store.add_form(TEST_FORM_ID, TEST_FORM_VERSION, "test", TEST_FORM_SPEC, "admin")
        try:
            yield store
        finally:
            store.close()

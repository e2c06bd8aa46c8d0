"""Scale-out: two portal processes share one PostgreSQL database; 20 kiosks sync
through either, one portal is killed mid-run, every submission is stored exactly once.

Each simulated kiosk is an enrolled device speaking protocol v2 over real HTTP with
the kiosk's own client (`sync.client.PortalClient`: gzip batches of sealed items, as
a kiosk sends them). Its 500 submissions go in batches of 50 through a portal picked
by a seeded random generator; some batches carry an item sent before (a duplicate),
and some whole batches are sent again (a replay after a lost answer). Portal A is
armed to die at the named crash point ``portal.item_stored`` on the Nth item it
stores (no timing: a count), in the middle of a batch's transaction. A kiosk whose
request dies with it retries the same batch on the other portal; A is restarted
(without the crash) and kiosks use it again. At the end the database holds every
submission once, every answer the kiosks were given agrees with it, and each kiosk
pages through its status log (small pages, by cursor) and sees each of its
submissions exactly once.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from kiosk import tracking
from kiosk.wire import now_iso
from sync.client import PortalClient
from sync.portal.process import PortalProcess, start_portal
from sync.portal.store import PortalStore
from sync.transport import RetryableError
from tests import sealkit
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_SPEC, TEST_FORM_VERSION

pytestmark = pytest.mark.slow

KIOSKS = 20
PER_KIOSK = 500
BATCH = 50
CRASH_AT = 1500  # portal A dies storing its 1500th item
DEADLINE = 240.0
SEED = 15


def start(portal_dir: Path, dsn: str, env: dict[str, str] | None = None) -> PortalProcess:
    return start_portal(portal_dir, "127.0.0.1", 0, "--no-bundled", "--database", dsn, env=env)


class Portals:
    """The two portals' URLs; slot 0 is A (killed, then restarted), slot 1 is B."""

    def __init__(self, a: PortalProcess, b: PortalProcess) -> None:
        self.lock = threading.Lock()
        self.processes = [a, b]

    def url(self, slot: int) -> str:
        with self.lock:
            return self.processes[slot].url

    def replace(self, slot: int, process: PortalProcess) -> None:
        with self.lock:
            self.processes[slot] = process


class SimKiosk:
    def __init__(self, number: int, token: str, prefix: str, portals: Portals) -> None:
        self.number = number
        self.token = token
        self.prefix = prefix
        self.portals = portals
        self.rng = random.Random(SEED * 1000 + number)
        self.clients: dict[str, PortalClient] = {}
        self.numbers: dict[str, str] = {}  # item id -> application number told
        self.codes: dict[str, str] = {}  # item id -> tracking code
        self.errors: list[str] = []
        self.retries = 0
        self.duplicates_sent = 0
        self.replays = 0
        self.items = [self.sealed(i) for i in range(PER_KIOSK)]

    def sealed(self, n: int) -> dict[str, object]:
        item = {
            "id": str(uuid.uuid4()),
            "tracking_code": tracking.new_code(self.prefix),
            "form_id": TEST_FORM_ID,
            "form_version": TEST_FORM_VERSION,
            "lang": "uz_Latn",
            "payload": {"full_name": f"Aliyev Vali {self.number}-{n}", "n": n},
            "created_at": now_iso(),
        }
        sealed = sealkit.seal_item(item)
        self.codes[str(item["id"])] = str(item["tracking_code"])
        return sealed

    def client(self, url: str) -> PortalClient:
        if url not in self.clients:
            self.clients[url] = PortalClient(url, self.token, timeout=60)
        return self.clients[url]

    def send(self, items: list[dict[str, object]]) -> list[dict[str, object]]:
        """Send until answered: a dead portal's batch goes to the other one."""
        slot = self.rng.randrange(2)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            url = self.portals.url(slot)
            try:
                answer = self.client(url).send_batch(items)  # type: ignore[arg-type]
                return [dict(r) for r in answer.results]
            except RetryableError:
                self.retries += 1
                slot = 1 - slot
                time.sleep(0.05)  # not a budget: a pause between retries
        raise AssertionError(f"kiosk {self.number}: no portal answered")

    def check(self, items: list[dict[str, object]], results: list[dict[str, object]]) -> None:
        if len(results) != len(items):
            self.errors.append(f"{len(results)} results for {len(items)} items")
            return
        for item, result in zip(items, results, strict=True):
            item_id = str(item["id"])
            if result.get("id") != item_id or result.get("outcome") not in (
                "accepted",
                "duplicate",
            ):
                self.errors.append(f"unexpected result {result}")
                continue
            number = str(result.get("application_number"))
            told = self.numbers.setdefault(item_id, number)
            if told != number:
                self.errors.append(f"{item_id}: told {told}, now {number}")

    def run(self) -> None:
        sent: list[list[dict[str, object]]] = []
        try:
            for start_at in range(0, PER_KIOSK, BATCH):
                batch = list(self.items[start_at : start_at + BATCH])
                if sent and self.rng.random() < 0.3:  # an item sent before, again
                    batch.append(self.rng.choice(self.rng.choice(sent)))
                    self.duplicates_sent += 1
                self.check(batch, self.send(batch))
                sent.append(batch)
                if self.rng.random() < 0.2:  # the answer "lost": the batch replayed
                    again = self.rng.choice(sent)
                    results = self.send(again)
                    self.replays += 1
                    if any(r.get("outcome") != "duplicate" for r in results):
                        self.errors.append("a replayed batch was not all duplicates")
                    self.check(again, results)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(exc))

    def status_codes(self) -> list[str]:
        """Every status change, paged by cursor in small pages, through portal B."""
        client = self.client(self.portals.url(1))
        codes: list[str] = []
        cursor = 0
        while True:
            page = client.status(cursor, limit=37)
            codes += [c["tracking_code"] for c in page["changes"]]
            assert page["cursor"] >= cursor
            cursor = page["cursor"]
            if not page["more"]:
                return codes

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def test_two_portals_on_one_postgresql_store_every_submission_once(
    tmp_path: Path, pg_database: str
) -> None:
    portal_dir = tmp_path / "portal"
    sealkit.seed_portal(portal_dir)
    admin = PortalStore(portal_dir, database=pg_database)
    admin.add_form(TEST_FORM_ID, TEST_FORM_VERSION, "test", TEST_FORM_SPEC, "admin")
    crash = {"KIOSK_CRASH_AT": f"portal.item_stored:{CRASH_AT}"}
    a = start(portal_dir, pg_database, env=crash)
    b = start(portal_dir, pg_database)
    portals = Portals(a, b)
    started = time.monotonic()
    kiosks: list[SimKiosk] = []
    restarted: list[PortalProcess] = []
    try:
        for number in range(KIOSKS):
            code = admin.create_enrolment_code(f"kiosk {number}")
            with PortalClient(portals.url(number % 2)) as client:
                answer = client.enroll(code, f"kiosk {number}")
            kiosks.append(SimKiosk(number, answer["token"], answer["device_prefix"], portals))
        threads = [threading.Thread(target=k.run, name=f"kiosk-{k.number}") for k in kiosks]
        for thread in threads:
            thread.start()
        # A dies at its crash point (a count of items, not a moment); restart it.
        end = time.monotonic() + DEADLINE
        while a.process.poll() is None and time.monotonic() < end:
            if not any(t.is_alive() for t in threads):
                break
            time.sleep(0.1)
        assert a.process.poll() is not None, "portal A never reached its crash point"
        assert a.process.returncode == -9
        assert any(
            f"crash point portal.item_stored:{CRASH_AT} reached" in line for line in a.output
        )
        again = start(portal_dir, pg_database)
        restarted.append(again)
        portals.replace(0, again)
        for thread in threads:
            thread.join(DEADLINE)
        assert not any(t.is_alive() for t in threads)
        elapsed = time.monotonic() - started
        errors = [f"kiosk {k.number}: {e}" for k in kiosks for e in k.errors]
        assert not errors, errors[:10]

        with psycopg.connect(pg_database) as conn:
            total, ids, codes, numbers = conn.execute(
                "SELECT count(*), count(DISTINCT (device_id, id)), "
                "count(DISTINCT tracking_code), count(DISTINCT application_number) "
                "FROM submissions"
            ).fetchone() or (0, 0, 0, 0)
            stored = dict(conn.execute("SELECT id, application_number FROM submissions").fetchall())
            received = conn.execute(
                "SELECT count(*) FROM status_log WHERE status = 'received'"
            ).fetchone()
        expected = KIOSKS * PER_KIOSK
        assert (total, ids, codes, numbers) == (expected,) * 4
        assert received is not None and received[0] == expected
        told = {i: n for k in kiosks for i, n in k.numbers.items()}
        assert len(told) == expected and told == stored  # every answer agrees with the store
        for kiosk in kiosks:
            paged = kiosk.status_codes()
            assert sorted(paged) == sorted(kiosk.codes.values())  # each once, none lost

        seqs = sorted(int(n.rsplit("-", 1)[1]) for n in stored.values())
        gaps = seqs[-1] - seqs[0] + 1 - len(seqs)
        print(
            f"\nscale-out: {expected} submissions by {KIOSKS} kiosks through 2 portals in "
            f"{elapsed:.1f} s ({expected / elapsed:.0f}/s); retries {sum(k.retries for k in kiosks)}, "
            f"duplicate items sent {sum(k.duplicates_sent for k in kiosks)}, batches replayed "
            f"{sum(k.replays for k in kiosks)}, application-number gaps {gaps} (numbers drawn by "
            "the batches that died with portal A)"
        )
    finally:
        for kiosk in kiosks:
            kiosk.close()
        for process in (a, b, *restarted):
            process.stop()
        admin.close()

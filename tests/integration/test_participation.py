"""Votes and petitions against real portal processes (issue 16's "Done when"): a second
vote from the same PINFL is refused with a clear message in the citizen's language and
counted once, from the same kiosk or another, online or offline and then synced; a
petition that crosses its threshold changes state; an unverified vote stays pending
until the one-time code from the FAKE SMS file confirms it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from kiosk import participation, reasons
from kiosk.crashpoints import ENV
from kiosk.store import Store
from sync import participation as api
from sync.client import PortalClient
from sync.portal import registry, registry_synth, seasons
from sync.portal.otp import FakeSmsGateway
from sync.portal.process import PortalProcess
from sync.portal.serve import load_participation
from sync.portal.store import PortalStore
from sync.transport import RequestRejected, RetryableError
from tests.conftest import KIOSK_ARGV, REPO_ROOT
from tests.integration.conftest import start_test_portal
from tests.integration.crashkit import KILLED, marker, wait_for_exit
from tests.integration.synckit import Kiosk, cli_env, enroll, moved, outbox

PEOPLE = registry_synth.make_people(6, seed=1616)
SEASON = "demo-2026"
CYRILLIC = re.compile(r"[А-Яа-яЎўҚқҒғҲҳ]")


def seed(portal_dir: Path, people: list[registry.Person]) -> None:
    """What `kiosk portal serve` loads with the bundled forms (the test portals start
    with ``--no-bundled``): the participation forms and the demo season; and the
    synthetic registry the one-time codes read the phone from."""
    store = PortalStore(portal_dir)
    try:
        load_participation(store)
        with store.transaction() as conn:
            registry.load(conn, people)
        store.set_ballot_batch(1)  # counted at once (the batching: test_ballot_box)
    finally:
        store.close()


@pytest.fixture(scope="module", autouse=True)
def people(portal: PortalProcess) -> None:
    seed(portal.data_dir, PEOPLE)


def another_kiosk(tmp_path: Path, portal: PortalProcess, name: str) -> Kiosk:
    data_dir = tmp_path / name
    data_dir.mkdir()
    enroll(data_dir, portal)
    return Kiosk(data_dir, portal)


def queue(kiosk: Kiosk, form_id: str, answers: dict[str, object], lang: str = "uz_Cyrl") -> str:
    with kiosk.store() as store:
        sub = store.submit(
            None, answers, lang, form_id=form_id, form_version=participation.FORM_VERSION
        )
    return sub.tracking_code


def sync(kiosk: Kiosk) -> None:
    result = kiosk.run("sync", "--max-wait", "0")
    assert result.returncode in (0, 1), result.stderr  # 1: some item was refused


def row(kiosk: Kiosk, code: str) -> dict[str, object]:
    with kiosk.store() as store:
        [found] = [r for r in outbox(store) if r["tracking_code"] == code]
    return found


def client(kiosk: Kiosk) -> PortalClient:
    with Store.open(kiosk.data_dir) as store:
        made = PortalClient.from_store(store)
    assert made is not None
    return made


def tally(kiosk: Kiosk) -> dict[str, int]:
    with client(kiosk) as portal:
        return api.tally(portal, SEASON)["votes"]


def said(found: dict[str, object]) -> str:
    """What the kiosk shows the citizen for a refused item, in uz_Cyrl."""
    params = json.loads(str(found["reason_params"] or "{}"))
    return reasons.say("uz_Cyrl", found["reason_code"], params)


def test_a_second_vote_is_refused_and_counted_once(kiosk: Kiosk, tmp_path: Path) -> None:
    pinfl = PEOPLE[0].pinfl
    before = sum(tally(kiosk).values())
    first = queue(
        kiosk, participation.VOTE_FORM, participation.vote_answers(SEASON, "school-roof", pinfl, 1)
    )
    sync(kiosk)  # online: sent at once
    assert row(kiosk, first)["outcome"] == "accepted"
    # The same kiosk again, and another kiosk, online.
    again = queue(
        kiosk, participation.VOTE_FORM, participation.vote_answers(SEASON, "water-pipe", pinfl, 1)
    )
    sync(kiosk)
    other = another_kiosk(tmp_path, kiosk.portal, "other")
    elsewhere = queue(
        other,
        participation.VOTE_FORM,
        participation.vote_answers(SEASON, "street-lights", pinfl, 2),
    )
    sync(other)
    for where, code in ((kiosk, again), (other, elsewhere)):
        refused = row(where, code)
        assert refused["outcome"] == "rejected" and refused["reason_code"] == "vote.already"
        message = said(refused)
        assert CYRILLIC.search(message), message  # the citizen's language, not English
    # Sending again changes nothing (a resend is a duplicate, the refusal stays one).
    sync(kiosk)
    votes = tally(kiosk)
    assert sum(votes.values()) == before + 1


def test_offline_votes_queue_and_are_deduplicated_on_sync(kiosk: Kiosk, tmp_path: Path) -> None:
    pinfl = PEOPLE[1].pinfl
    before = sum(tally(kiosk).values())
    other = another_kiosk(tmp_path, kiosk.portal, "offline")
    # Both kiosks are offline (nothing synced): the votes wait in their outboxes.
    one = queue(
        kiosk, participation.VOTE_FORM, participation.vote_answers(SEASON, "school-roof", pinfl, 1)
    )
    two = queue(
        other, participation.VOTE_FORM, participation.vote_answers(SEASON, "water-pipe", pinfl, 3)
    )
    assert row(kiosk, one)["state"] == "queued" and row(other, two)["state"] == "queued"
    sync(other)
    sync(kiosk)
    assert row(other, two)["outcome"] == "accepted"
    assert row(kiosk, one)["reason_code"] == "vote.already"
    assert sum(tally(kiosk).values()) == before + 1


def test_an_unverified_vote_is_pending_until_the_code_confirms_it(kiosk: Kiosk) -> None:
    person = PEOPLE[2]
    code = queue(
        kiosk,
        participation.VOTE_FORM,
        participation.vote_answers(SEASON, "street-lights", person.pinfl),
    )
    sync(kiosk)
    assert row(kiosk, code)["application_number"] == "pending"
    item_id = str(row(kiosk, code)["id"])
    with client(kiosk) as portal:
        before = api.tally(portal, SEASON)
        assert before["pending"] >= 1
        sent = api.send_code(portal, person.pinfl, item_id, "uz_Cyrl")
        assert sent["sent"] and sent["phone_hint"].endswith(person.phone[-2:])
        messages = [
            m for m in FakeSmsGateway(kiosk.portal.data_dir).messages() if m["to"] == person.phone
        ]
        text = messages[-1]["text"]
        assert CYRILLIC.search(text)  # the SMS in the citizen's language
        otp = re.search(r"\d{6}", text)
        assert otp is not None
        wrong = "000000" if otp.group() != "000000" else "111111"
        with pytest.raises(RequestRejected) as refused:
            api.confirm_code(portal, person.pinfl, item_id, wrong)
        assert refused.value.reason_code == "otp.wrong"
        assert CYRILLIC.search(refused.value.message("uz_Cyrl"))
    # The kiosk's own path: the code checked for its queued item, the outbox told.
    api.check_code(kiosk.data_dir, person.pinfl, otp.group(), code)
    assert row(kiosk, code)["application_number"] == "verified"
    with client(kiosk) as portal:
        after = api.tally(portal, SEASON)
    assert after["votes"]["street-lights"] == before["votes"]["street-lights"] + 1
    assert after["pending"] == before["pending"] - 1


def test_a_petition_that_crosses_its_threshold_changes_state(kiosk: Kiosk, tmp_path: Path) -> None:
    start = participation.start_answers(
        "demo",
        "Bahor koʻchasiga svetofor",
        "Bolalar maktabga xavfsiz borishi uchun svetofor kerak.",
        PEOPLE[3].pinfl,
        1,
    )
    code = queue(kiosk, participation.START_FORM, start)
    sync(kiosk)
    assert row(kiosk, code)["outcome"] == "accepted"
    petition_id = str(row(kiosk, code)["id"])
    result = kiosk.run(
        "portal",
        "petition",
        "threshold",
        petition_id,
        "2",
        "--portal-dir",
        str(kiosk.portal.data_dir),
    )
    assert result.returncode == 0, result.stderr
    other = another_kiosk(tmp_path, kiosk.portal, "signer")
    queue(
        kiosk, participation.SIGN_FORM, participation.sign_answers(petition_id, PEOPLE[4].pinfl, 1)
    )
    sync(kiosk)
    with client(kiosk) as portal:
        [found] = [p for p in api.petitions(portal, "demo") if p["petition_id"] == petition_id]
    assert found["state"] == "open" and found["signatures"] == 1
    queue(
        other, participation.SIGN_FORM, participation.sign_answers(petition_id, PEOPLE[5].pinfl, 2)
    )
    sync(other)
    with client(kiosk) as portal:
        [found] = [p for p in api.petitions(portal, "demo") if p["petition_id"] == petition_id]
    assert found["state"] == "under_review" and found["signatures"] == 2


def test_portal_killed_while_confirming_a_code(
    private_kiosk: Kiosk, restarted: list[PortalProcess]
) -> None:
    kiosk = private_kiosk
    person = PEOPLE[0]
    seed(kiosk.portal.data_dir, [person])
    code = queue(
        kiosk,
        participation.VOTE_FORM,
        participation.vote_answers(SEASON, "water-pipe", person.pinfl),
    )
    sync(kiosk)
    item_id = str(row(kiosk, code)["id"])
    with client(kiosk) as portal:
        api.send_code(portal, person.pinfl, item_id, "ru")
    [sms] = FakeSmsGateway(kiosk.portal.data_dir).messages()
    otp = re.search(r"\d{6}", sms["text"])
    assert otp is not None
    kiosk.portal.stop()
    crashing = start_test_portal(kiosk.portal.data_dir, env={ENV: "portal.code_confirmed"})
    restarted.append(crashing)
    moved(kiosk.data_dir, crashing.url)
    with client(kiosk) as portal, pytest.raises(RetryableError):
        api.confirm_code(portal, person.pinfl, item_id, otp.group())
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.code_confirmed") in line for line in crashing.output)
    again = start_test_portal(kiosk.portal.data_dir)
    restarted.append(again)
    moved(kiosk.data_dir, again.url)
    with client(kiosk) as portal:
        assert api.tally(portal, SEASON)["votes"]["water-pipe"] == 0  # nothing was committed
        assert api.confirm_code(portal, person.pinfl, item_id, otp.group())["votes"] == [SEASON]
        assert api.tally(portal, SEASON)["votes"]["water-pipe"] == 1


def test_killed_while_publishing_a_season(kiosk: Kiosk, tmp_path: Path) -> None:
    season = json.loads(seasons.DEMO_FILE.read_text(encoding="utf-8"))
    season.update(season_id="crash-2026", district="crashtown")
    path = tmp_path / "season.json"
    path.write_text(json.dumps(season, ensure_ascii=False), encoding="utf-8")
    args = ("portal", "season", "publish", str(path), "--portal-dir", str(kiosk.portal.data_dir))
    env = {**cli_env(kiosk.data_dir), ENV: "portal.season_published"}
    killed = subprocess.run(
        [*KIOSK_ARGV, *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120
    )
    assert killed.returncode == KILLED and marker("portal.season_published") in killed.stderr
    with client(kiosk) as portal:
        assert api.seasons(portal, "crashtown") == []  # nothing of it was committed
    done = kiosk.run(*args)
    assert done.returncode == 0, done.stderr
    with client(kiosk) as portal:
        [found] = api.seasons(portal, "crashtown")
    assert [i["id"] for i in found["initiatives"]] == ["school-roof", "street-lights", "water-pipe"]


def test_portal_killed_while_counting_a_batch_of_ballots(
    private_kiosk: Kiosk, restarted: list[PortalProcess]
) -> None:
    """The batch's voters are committed, then the portal dies counting the ballot box
    (`portal.ballots_mixed`): the box is whole after the restart, and the next read
    counts every ballot once; the kiosk's resend is a duplicate."""
    kiosk = private_kiosk
    seed(kiosk.portal.data_dir, PEOPLE[:2])
    codes = [
        queue(
            kiosk,
            participation.VOTE_FORM,
            participation.vote_answers(SEASON, choice, person.pinfl, 1),
        )
        for person, choice in zip(PEOPLE[:2], ["water-pipe", "school-roof"], strict=True)
    ]
    kiosk.portal.stop()
    crashing = start_test_portal(kiosk.portal.data_dir, env={ENV: "portal.ballots_mixed"})
    restarted.append(crashing)
    moved(kiosk.data_dir, crashing.url)
    kiosk.run("sync", "--max-wait", "0")
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.ballots_mixed") in line for line in crashing.output)
    store = PortalStore(kiosk.portal.data_dir)
    try:
        with store.db.read() as conn:
            boxed = conn.execute("SELECT COUNT(*) AS n FROM vote_box").fetchone()["n"]
            voters = conn.execute("SELECT COUNT(*) AS n FROM vote_voters").fetchone()["n"]
    finally:
        store.close()
    assert boxed == 2 and voters == 2  # committed with the batch, not yet counted
    again = start_test_portal(kiosk.portal.data_dir)
    restarted.append(again)
    moved(kiosk.data_dir, again.url)
    sync(kiosk)
    assert [row(kiosk, c)["application_number"] for c in codes] == ["verified", "verified"]
    with client(kiosk) as portal:
        counted = api.tally(portal, SEASON)
    assert counted["votes"] == {"school-roof": 1, "street-lights": 0, "water-pipe": 1}
    assert counted["voters"] == 2

"""Bundle export and import killed by SIGKILL, then repeated.

An export leaves the old file or a whole new one, never half (a killed export's
temporary file is removed by the next); an import answered by the portal but killed
before the kiosk recorded it is simply imported again: the portal answers duplicates.
"""

from __future__ import annotations

import pytest

from kiosk.store import Store
from tests.integration.crashkit import (
    check_kiosk,
    check_recovered,
    kiosk_crashing,
    submit_until_killed,
)
from tests.integration.synckit import Kiosk, enroll, queue_submissions


def test_export_killed_before_the_rename(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "stick" / "queue.bundle"
    target.parent.mkdir()
    kiosk_crashing(kiosk, "bundle.export_written", "export-bundle", str(target))
    assert not target.exists()  # never half a bundle
    leftovers = list(target.parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".queue.bundle.")
    result = kiosk.run("export-bundle", str(target))
    assert result.returncode == 0, result.stderr
    # The next export cleans up: no copy of citizens' answers is left on the stick.
    assert list(target.parent.iterdir()) == [target]
    check_kiosk(kiosk)
    check_recovered(kiosk)


def test_export_killed_after_the_rename(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "queue.bundle"
    kiosk_crashing(kiosk, "bundle.export_renamed", "export-bundle", str(target))
    from sync import bundle

    parsed = bundle.read(target)  # whole and valid, though its audit entry is missing
    assert parsed.count == 4 and len(list(bundle.items(parsed))) == 4
    result = kiosk.run("import-bundle", str(target))
    assert result.returncode == 0, result.stderr
    stats = check_recovered(kiosk)
    assert stats["duplicates"] == 4  # delivered by the bundle, then resent by sync


@pytest.mark.slow
@pytest.mark.parametrize("importer_is_exporter", [True, False])
def test_import_killed_after_the_portal_answered(kiosk: Kiosk, importer_is_exporter: bool) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "queue.bundle"
    assert kiosk.run("export-bundle", str(target)).returncode == 0
    importer = kiosk
    if not importer_is_exporter:  # the stick carried to another, connected kiosk
        other = kiosk.data_dir.parent / "k2"
        other.mkdir()
        enroll(other, kiosk.portal)
        importer = Kiosk(other, kiosk.portal)
    kiosk_crashing(importer, "bundle.import_answered", "import-bundle", str(target))
    assert kiosk.portal_stats()["submissions"] == 4
    again = importer.run("import-bundle", str(target))  # the operator tries again
    assert again.returncode == 0, again.stderr
    check_kiosk(importer)
    stats = check_recovered(kiosk)
    assert stats["duplicates"] == 4 + 4  # the second import and the sync: all no-ops


def test_kiosk_store_reopens_after_every_kill(kiosk: Kiosk) -> None:
    """A database left by kills at several points opens and migrates as usual."""
    for spec in ("submit.after_commit:2", "draft.after_commit:1", "submit.before_commit:1"):
        submit_until_killed(kiosk, spec, 3)
    with Store.open(kiosk.data_dir) as store:
        assert store.schema_version() >= 1
    check_recovered(kiosk)

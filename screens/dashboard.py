"""Operator dashboard: queue health at a glance, rejected submissions, sync now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, DataTable, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.tr import TrButton, TrLabel, set_text


@dataclass
class QueueHealth:
    """One reading of the outbox and the sync settings."""

    counts: dict[str, int] = field(default_factory=dict)
    oldest_unsent_at: str | None = None
    last_sync_at: str | None = None
    last_sync_error: str | None = None
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_open: int = 0
    help_call: Any = None  # kiosk.help_calls.HelpCall: a citizen waits for the operator
    district: str = "demo"  # kiosk.district: the code of the district the kiosk serves


# Where a citizen called from (KioskApp.action_call_operator records the screen's
# class name), in the operator's words.
CALLED_FROM = {
    "start": N_("the first screen"),
    "services": N_("the service list"),
    "question": N_("a question"),
    "review": N_("the review"),
    "receipt": N_("the receipt"),
    "status": N_("the status check"),
    "resume": N_("continue with a code"),
    "draftsaved": N_("the saved draft"),
}


def read_health(store: Any) -> QueueHealth:
    """Runs on the store thread."""
    from kiosk import district

    return QueueHealth(
        counts=dict(store.queue_counts()),
        oldest_unsent_at=store.oldest_unsent_at(),
        last_sync_at=store.state.last_sync_at,
        last_sync_error=store.state.last_sync_error,
        rejected=list(store.rejected_open(limit=100)),
        rejected_open=store.rejected_open_count(),
        help_call=store.help_call(),
        district=district.current(store),
    )


def format_age(since_iso: str | None, now: datetime, lang: str) -> str:
    """Time since a stored ISO moment, as "3 h 12 min"; "—" when there is none."""
    if not since_iso:
        return "—"
    try:
        since = datetime.fromisoformat(since_iso)
    except ValueError:
        return since_iso
    if since.tzinfo is None:
        since = since.replace(tzinfo=now.tzinfo)
    minutes = max(0, int((now - since).total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return tr(lang, "{d} d {h} h", d=days, h=hours)
    if hours:
        return tr(lang, "{h} h {m} min", h=hours, m=mins)
    return tr(lang, "{m} min", m=mins)


class Tile(Vertical):
    """A figure with its caption."""

    def __init__(self, caption: str, *, id: str) -> None:
        super().__init__(id=id, classes="tile")
        self.caption = caption

    def compose(self) -> ComposeResult:
        yield TrLabel(self.caption, classes="tile-caption")
        yield Static(classes="tile-value", markup=False)

    def set_value(self, text: str, alert: bool = False) -> None:
        self.query_one(".tile-value", Static).update(Content(text))
        self.set_class(alert, "-alert")


class DashboardScreen(KioskScreen):
    """Home of operator mode."""

    CALL_OPERATOR = False  # the operator's own screen

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.health = QueueHealth()

    def body(self) -> ComposeResult:
        # Which district's seasons and petitions the kiosk shows (`kiosk district set`);
        # flagged while it is still the demo's.
        yield Static(id="district-line", markup=False)
        # A citizen pressed "Call the operator" (kiosk/help_calls.py): up until cleared,
        # here and after a restart; key 6 or the button clears it (audited).
        with Horizontal(id="help-flag"):
            yield Static(id="help-flag-text", markup=False)
            yield TrButton(N_("Help given"), prefix="6 ", id="help-clear", variant="warning")
        with Grid(id="tiles"):
            yield Tile(N_("Waiting to send"), id="t-queued")
            yield Tile(N_("Sent"), id="t-sent")
            yield Tile(N_("Rejected"), id="t-rejected")
            yield Tile(N_("Oldest unsent"), id="t-oldest")
            yield Tile(N_("Last sync"), id="t-last")
            yield Tile(N_("Connection"), id="t-net")
        yield TrLabel(N_("Rejected submissions"), classes="section-title")
        yield DataTable(id="rejected", cursor_type="row", zebra_stripes=True)
        # Shown with the table: the rejected-items view (screens/rejected.py), also key 5.
        yield TrButton(N_("Rejected items"), prefix="5 ", id="rejected-items")
        yield TrLabel(N_("No rejected submissions."), id="no-rejected")
        with Horizontal(classes="nav -four"):  # two rows when narrow (app.tcss)
            yield TrButton(N_("New application"), prefix="1 ", id="new", variant="primary")
            yield TrButton(N_("Sync now"), prefix="2 ", id="sync")
            yield TrButton(N_("Check status"), prefix="3 ", id="check-status")
            yield TrButton(N_("Log out"), prefix="4 ", id="logout")

    async def on_mount(self) -> None:
        for name in ("queued", "sync_state", "online"):
            self.watch(self.app, name, self._reload_soon, init=False)
        self.set_interval(10.0, self._reload_soon)
        await self.reload()
        self.query_one("#new", Button).focus()

    async def on_screen_resume(self) -> None:
        if self.is_mounted:
            await self.reload()

    def _reload_soon(self, _value: object = None) -> None:
        self.run_worker(self.reload(), exclusive=True, group="dashboard")

    async def reload(self) -> None:
        from kiosk.store import StoreError

        try:
            self.health = await self.kiosk.db.call(read_health)
        except StoreError:
            return  # shown by the app; the last reading stays on screen
        self.apply_lang(self.lang)

    def apply_lang(self, lang: str) -> None:
        h = self.health
        kiosk = self.kiosk
        now = kiosk.clock.now()
        self.query_one("#t-queued", Tile).set_value(str(h.counts.get("queued", 0)))
        self.query_one("#t-sent", Tile).set_value(str(h.counts.get("sent", 0)))
        rejected = h.rejected_open  # waiting for an operator; settled ones are done
        self.query_one("#t-rejected", Tile).set_value(str(rejected), alert=rejected > 0)
        self.query_one("#t-oldest", Tile).set_value(format_age(h.oldest_unsent_at, now, lang))
        if kiosk.sync_state == "syncing":
            last = tr(lang, "Sending…")
        elif h.last_sync_at:
            last = tr(lang, "{age} ago", age=format_age(h.last_sync_at, now, lang))
        else:
            last = tr(lang, "Never")
        self.query_one("#t-last", Tile).set_value(last, alert=kiosk.sync_state == "error")
        if kiosk.online is None:
            net = tr(lang, "No portal set up")
        else:
            net = tr(lang, "Online") if kiosk.online else tr(lang, "Offline")
        self.query_one("#t-net", Tile).set_value(net, alert=kiosk.online is False)
        self._fill_table(lang)
        self._show_help_call(lang, now)
        self._show_district(lang)

    def _show_district(self, lang: str) -> None:
        from kiosk import district

        name = district.name(self.health.district, lang)
        line = self.query_one("#district-line", Static)
        shown = name if name is not None else tr(lang, "not set (demo)")
        set_text(line, tr(lang, "District: {district}", district=shown))
        line.set_class(name is None, "-unset")

    def _show_help_call(self, lang: str, now: datetime) -> None:
        call = self.health.help_call
        flag = self.query_one("#help-flag", Horizontal)
        flag.display = call is not None
        if call is None:
            return
        age = format_age(call["ts"], now, lang)
        text = "☎ " + tr(
            lang,
            "A citizen is calling for help ({age} ago, screen: {screen}, calls: {n}).",
            age=age,
            screen=tr(lang, CALLED_FROM.get(call["screen"], N_("another screen"))),
            n=call["calls"],
        )
        set_text(self.query_one("#help-flag-text", Static), text)

    @on(Button.Pressed, "#help-clear")
    async def clear_help_call(self) -> None:
        from kiosk.store import Store, StoreError

        if self.health.help_call is None:
            return
        operator_id = getattr(self.kiosk.operator, "id", None)
        try:
            await self.kiosk.db.call(Store.clear_help_call, operator_id)
        except StoreError:
            return  # shown by the app; the flag stays up
        await self.reload()

    def _fill_table(self, lang: str) -> None:
        # Cells are rich Text: DataTable measures those for its auto-width columns, but
        # not Content, whose columns stayed as narrow as their headings (finding 5).
        from kiosk.rejected import reason_text

        table = self.query_one("#rejected", DataTable)
        table.clear(columns=True)
        table.add_column(tr(lang, "Code"), key="code")
        table.add_column(tr(lang, "Form"), key="form")
        table.add_column(tr(lang, "Saved"), key="created")
        table.add_column(tr(lang, "Reason"), key="reason")
        for row in self.health.rejected:
            created = str(row.get("created_at") or "")[:16].replace("T", " ")
            table.add_row(
                Text(str(row.get("tracking_code", ""))),
                Text(str(row.get("form_id", ""))),
                Text(created),
                Text(reason_text(row, lang)),  # type: ignore[arg-type]  # a QueueRow read as a dict
                key=str(row.get("tracking_code")),
            )
        table.display = bool(self.health.rejected)
        self.query_one("#rejected-items").display = bool(self.health.rejected)
        self.query_one("#no-rejected").display = not self.health.rejected

    @on(Button.Pressed, "#new")
    async def new_application(self) -> None:
        await self.app.push_screen(self.kiosk.new_screen("start"))

    @on(Button.Pressed, "#sync")
    def sync_now(self) -> None:
        self.kiosk.sync_now()
        self.kiosk.probe()

    @on(Button.Pressed, "#check-status")
    async def check_status(self) -> None:
        await self.app.push_screen(self.kiosk.new_screen("status"))

    @on(Button.Pressed, "#rejected-items")
    async def rejected_items(self, code: str | None = None) -> None:
        await self.app.push_screen(self.kiosk.new_screen("rejected", select=code))

    @on(DataTable.RowSelected, "#rejected")
    async def open_rejected(self, event: DataTable.RowSelected) -> None:
        """Enter or a click on a row: that item in the rejected-items view."""
        await self.rejected_items(str(event.row_key.value))

    @on(Button.Pressed, "#logout")
    async def logout(self) -> None:
        kiosk = self.kiosk
        kiosk.operator = None
        kiosk.operator_name = None
        # Replaces this screen.
        kiosk.switch_screen(kiosk.new_screen("operator_login", purpose="login"))

    def on_key(self, event: Key) -> None:
        actions = {
            "1": self.new_application,
            "3": self.check_status,
            "4": self.logout,
            "5": self.rejected_items,
            "6": self.clear_help_call,
        }
        if event.key == "2":
            event.stop()
            self.sync_now()
        elif event.key in actions:
            event.stop()
            self.run_worker(actions[event.key]())

"""The operator's view of rejected items (issue 14, finding 5): read and settle them.

Every item the portal refused and no operator has settled yet, with the full reason in
the operator's language (said from the portal's reason code, `kiosk.rejected`), its
details, and two audited actions:

- **Fix and resubmit** (option (a)): the kiosk holds only the sealed blob, which only
  the portal can open, so the operator enters the answers again with the citizen in a
  new visit of the same form (its current version), the rejection reason shown above
  every question; the new submission records ``resubmits: <old code>`` and the old item
  is settled in submit's own transaction.
- **Discard** with a reason (`DiscardScreen`): the item is settled as discarded.

Operator only: without a logged-in operator the screen closes at once.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, DataTable, Input, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskModal, KioskScreen
from screens.visit import Visit
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel


def _read(store: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """On the store thread: the open rejected items and their forms' ids -> titles
    (the form may be gone from the catalog: then its id is shown)."""
    from kiosk.catalog import Catalog, CatalogError

    items = [dict(row) for row in store.rejected_open()]
    catalog = Catalog(store)
    titles: dict[str, Any] = {}
    for form_id in {str(item["form_id"]) for item in items}:
        try:
            titles[form_id] = catalog.get(form_id)
        except CatalogError:
            continue
    return items, titles


class RejectedScreen(KioskScreen):
    """Rejected items, their reasons and details; resubmit or discard."""

    CALL_OPERATOR = False  # the operator's own screen

    CSS_PATH = LATER_CSS

    def __init__(self, select: str | None = None) -> None:
        super().__init__()
        self.select = select  # the tracking code to show first (a dashboard row)
        self.items: list[dict[str, Any]] = []
        self.forms: dict[str, Any] = {}

    def body(self) -> ComposeResult:
        yield TrLabel(N_("Rejected items"), classes="section-title")
        with Horizontal(id="rj-main"):
            yield DataTable(id="rj-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="rj-side"):
                yield Static(id="rj-details", markup=False)
        yield TrLabel(N_("No rejected submissions."), id="rj-none")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="rj-back", classes="nav-back")
            yield TrButton(N_("Fix and resubmit"), prefix="1 ", id="rj-resubmit", variant="primary")
            yield TrButton(N_("Discard…"), prefix="2 ", id="rj-discard", variant="error")

    async def on_mount(self) -> None:
        if self.kiosk.operator is None:  # operator only: answers and actions are theirs
            self.app.pop_screen()
            return
        await self.reload()
        self.query_one("#rj-table", DataTable).focus()

    async def on_screen_resume(self) -> None:
        if self.is_mounted and self.kiosk.operator is not None:
            await self.reload()

    async def reload(self) -> None:
        from kiosk.store import StoreError

        try:
            self.items, self.forms = await self.kiosk.db.call(_read)
        except StoreError:
            return  # shown by the app
        self.apply_lang(self.lang)

    @property
    def current(self) -> dict[str, Any] | None:
        table = self.query_one("#rj-table", DataTable)
        if not self.items or table.cursor_row < 0 or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    def _title(self, form_id: str, lang: str) -> str:
        form = self.forms.get(form_id)
        return form.title(lang) if form is not None else form_id

    def apply_lang(self, lang: str) -> None:
        table = self.query_one("#rj-table", DataTable)
        at = self.current
        chosen = self.select or (at["tracking_code"] if at else None)
        table.clear(columns=True)
        rows = [
            (
                str(item["tracking_code"]),
                self._title(str(item["form_id"]), lang),
                str(item.get("created_at") or "")[:16].replace("T", " "),
            )
            for item in self.items
        ]
        headings = (("code", "Code"), ("form", "Form"), ("created", "Saved"))
        for n, (key, msgid) in enumerate(headings):
            label = tr(lang, msgid)
            # Widths given, from the cells: the table never cuts a code or a title.
            width = max([cell_len(label), *(cell_len(row[n]) for row in rows)])
            table.add_column(label, key=key, width=width)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row), key=row[0])
        codes = [str(item["tracking_code"]) for item in self.items]
        if chosen in codes and codes.index(chosen):
            table.move_cursor(row=codes.index(chosen))
        self.select = None
        empty = not self.items
        for widget_id in ("#rj-main", "#rj-resubmit", "#rj-discard"):
            self.query_one(widget_id).display = not empty
        self.query_one("#rj-none").display = empty
        self._show_details(lang)

    @on(DataTable.RowHighlighted, "#rj-table")
    def _highlighted(self) -> None:
        self._show_details(self.lang)

    def _show_details(self, lang: str) -> None:
        from kiosk.rejected import reason_text

        item = self.current
        details = self.query_one("#rj-details", Static)
        if item is None:
            details.update("")
            return
        created = str(item.get("created_at") or "")[:16].replace("T", " ")
        lines = [
            tr(lang, "Tracking code: {code}", code=item["tracking_code"]),
            tr(
                lang,
                "Form: {title} ({form_id}, version {version})",
                title=self._title(str(item["form_id"]), lang),
                form_id=item["form_id"],
                version=item["form_version"],
            ),
            tr(lang, "Saved: {when}", when=created),
            tr(lang, "Attempts: {n}", n=item.get("attempts", 0)),
            "",
            tr(lang, "Why the portal refused it:"),
            reason_text(item, lang),  # type: ignore[arg-type]  # a QueueRow read as a dict
            "",
            tr(
                lang,
                "The answers were sealed for the portal and are not kept on this kiosk: "
                "to fix the application, enter them again with the citizen "
                "(Fix and resubmit).",
            ),
        ]
        details.update(Content("\n".join(lines)))

    # ----- actions --------------------------------------------------------------------

    @on(Button.Pressed, "#rj-back")
    def back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#rj-resubmit")
    async def resubmit(self) -> None:
        """A new visit of the same form (its current version), linked to the old item."""
        from kiosk.catalog import Catalog, CatalogError
        from kiosk.engine import FormSession
        from kiosk.rejected import reason_text

        item = self.current
        if item is None:
            return
        kiosk = self.kiosk
        try:
            form = await kiosk.db.catalog(Catalog.get, str(item["form_id"]))
        except CatalogError:
            kiosk.notify(
                tr(
                    self.lang,
                    "This form is no longer offered: discard the item, with the reason.",
                ),
                severity="warning",
            )
            return
        from screens.services import device_id

        session = FormSession(
            form,
            lang=self.lang,
            today=kiosk.clock.now().date(),
            device_id=await device_id(kiosk),
            clock=kiosk.clock.now,
        )
        visit = Visit(
            form,
            session,
            resubmits=str(item["tracking_code"]),
            resubmit_reason=reason_text(item, self.lang),  # type: ignore[arg-type]  # a QueueRow read as a dict
        )
        await kiosk.start_visit(visit)

    @on(Button.Pressed, "#rj-discard")
    def ask_discard(self) -> None:
        item = self.current
        if item is None:
            return
        code = str(item["tracking_code"])

        async def discarded(note: object) -> None:
            if isinstance(note, str) and note:
                await self.discard(code, note)

        self.app.push_screen(self.kiosk.new_screen("discard", code), discarded)

    async def discard(self, code: str, note: str) -> None:
        from kiosk.rejected import NotOpen
        from kiosk.store import Store, StoreError

        kiosk = self.kiosk
        operator_id = getattr(kiosk.operator, "id", None)
        try:
            await kiosk.db.call(Store.discard_rejected, code, note, operator_id)
        except NotOpen as exc:  # settled meanwhile (another operator's window)
            kiosk.notify(exc.message(self.lang), severity="warning")
        except StoreError:
            return  # shown by the app
        await kiosk.refresh_queue()
        await self.reload()

    def on_key(self, event: Key) -> None:
        if event.key == "1":
            event.stop()
            self.run_worker(self.resubmit())
        elif event.key == "2":
            event.stop()
            self.ask_discard()
        elif event.key == "escape":
            event.stop()
            self.back()


class DiscardScreen(KioskModal):
    """Why the operator discards a rejected item: the reason is required and audited."""

    CSS_PATH = LATER_CSS

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TrLabel(N_("Discard a rejected item"), classes="dialog-title")
            yield Static(id="discard-text", classes="dialog-text", markup=False)
            yield TextBox(id="discard-note", max_length=500)
            yield Static(id="discard-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(N_("Discard"), id="discard-ok", variant="error")
                yield TrButton(N_("Cancel"), id="discard-cancel")

    def on_mount(self) -> object:
        self.query_one("#discard-note", Input).focus()
        return super().on_mount()

    def apply_lang(self, lang: str) -> None:
        self.query_one("#discard-text", Static).update(
            Content(
                tr(
                    lang,
                    "Why is {code} discarded? The reason is kept in the audit log.",
                    code=self.code,
                )
            )
        )

    @on(Input.Submitted, "#discard-note")
    @on(Button.Pressed, "#discard-ok")
    def confirm(self) -> None:
        note = " ".join(self.query_one("#discard-note", Input).value.split())
        if not note:
            self.query_one("#discard-error", Static).update(
                Content(tr(self.lang, "Write the reason first."))
            )
            return
        self.dismiss(note)

    @on(Button.Pressed, "#discard-cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.dismiss(None)

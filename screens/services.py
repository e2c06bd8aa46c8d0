"""The service list: categories, large numbered buttons, search in any script.

Typing letters anywhere on this screen goes to the search box; digits 1-9 pick the
numbered services shown. ``kiosk.search.matches`` makes "pasport", "паспорт" and
"паспорт" (Russian) find the same services.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk.i18n import LANGS, N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.visit import Visit, mentions_answers
from screens.widgets.tr import TrButton, TrLabel


class ServiceButton(Button):
    """A numbered, full-width button for one form."""

    def __init__(self, form: Any, number: int | None) -> None:
        super().__init__(Content(""), id=f"svc-{form.id}", classes="big service")
        self.form = form
        self.number = number

    def relabel(self, lang: str) -> None:
        prefix = f"{self.number}  " if self.number is not None and self.number < 10 else ""
        self.label = Content(prefix + self.form.title(lang))


class CategoryHeading(Static):
    """The name of a category above its services."""

    def __init__(self, category: str) -> None:
        super().__init__(Content(""), classes="category", markup=False)
        self.category = category


class ServicesScreen(KioskScreen):
    """Choose a service; starts a ``Visit`` and opens its first question."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Any] = []

    def body(self) -> ComposeResult:
        yield TrLabel(N_("Choose a service"), classes="screen-title")
        yield Input(id="search", classes="search")
        yield VerticalScroll(id="service-list")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    async def on_mount(self) -> None:
        from kiosk.catalog import Catalog
        from kiosk.store import StoreError

        try:
            self.forms = await self.kiosk.db.catalog(Catalog.list)
        except StoreError:
            self.forms = []  # the app has shown why; the list says no service is offered
        await self.show(self.forms)
        first = self.query(ServiceButton).first()
        if first is not None:
            first.focus()

    def apply_lang(self, lang: str) -> None:
        self.query_one("#search", Input).placeholder = tr(lang, "Search: type a word")
        for button in self.query(ServiceButton):
            button.relabel(lang)
        for heading in self.query(CategoryHeading):
            heading.update(Content(_category_label(heading.category, lang)))

    async def show(self, forms: list[Any]) -> None:
        """Rebuild the list: categories in catalog order, numbers across categories."""
        container = self.query_one("#service-list", VerticalScroll)
        await container.remove_children()
        widgets: list[Any] = []
        category: str | None = None
        for number, form in enumerate(forms, start=1):
            if form.category != category:
                category = form.category
                widgets.append(CategoryHeading(category))
            widgets.append(ServiceButton(form, number))
        if not widgets:
            widgets.append(TrLabel(N_("No service matches your search."), classes="empty"))
        await container.mount_all(widgets)
        self.apply_lang(self.lang)

    @on(Input.Changed, "#search")
    async def _search(self, event: Input.Changed) -> None:
        from kiosk.search import matches

        query = event.value.strip()
        if not query:
            await self.show(self.forms)
            return
        found = [f for f in self.forms if matches(query, *_searchable(f))]
        await self.show(found)

    @on(Input.Submitted, "#search")
    def _search_enter(self) -> None:
        buttons = list(self.query(ServiceButton))
        if len(buttons) == 1:
            self.run_worker(self.start(buttons[0].form))
        elif buttons:
            buttons[0].focus()

    def on_key(self, event: Key) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            if event.key == "down":
                event.stop()
                self.focus_next()
            return
        if event.key.isdigit() and event.key != "0":
            for button in self.query(ServiceButton):
                if str(button.number) == event.key:
                    event.stop()
                    self.run_worker(self.start(button.form))
                    return
        elif event.is_printable and event.character and event.character.isalpha():
            # Letters go to the search box, wherever the focus is.
            event.stop()
            search.focus()
            search.insert_text_at_cursor(event.character)

    @on(Button.Pressed, ".service")
    async def _pressed(self, event: Button.Pressed) -> None:
        assert isinstance(event.button, ServiceButton)
        await self.start(event.button.form)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    async def start(self, form: Any) -> None:
        from kiosk.engine import FormSession

        kiosk = self.kiosk
        session = FormSession(form, lang=self.lang, today=kiosk.clock.now().date())
        # Not a prompt with answers filled in: those are spoken privately, never cached.
        steps = [step for step in session.steps() if not mentions_answers(step)]
        kiosk.prewarm([(session.label(step.ref), self.lang) for step in steps])
        await kiosk.start_visit(Visit(form, session))


def _searchable(form: Any) -> list[str]:
    # The documents too: "pasport" then finds every service a passport is needed for,
    # in any script, rather than nothing.
    texts = [form.id]
    for lang in LANGS:
        texts += [form.title(lang), form.description(lang), *form.documents(lang)]
    return [t for t in texts if t]


def _category_label(category: str, lang: str) -> str:
    from kiosk.catalog import category_name

    return category_name(category, lang) if category else tr(lang, "Other services")

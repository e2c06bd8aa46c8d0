"""The service list: categories, large numbered buttons, search in any script.

Typing letters anywhere on this screen goes to the search box; digits 1-9 always pick
among the numbered services shown, and are never typed into the box (a service's
number must not change under the citizen's finger); at most nine are shown on a page
and 0 turns to the next one. Escape goes back. ``kiosk.search.matches`` makes
"pasport", "паспорт" and "паспорт" (Russian) find the same services.

Keys come to this screen in order (``KeysInOrder``): the first letter typed moves the
focus into the box at once, so the next one lands after it. The box never selects
what it holds on entering (a TextBox, screens/widgets/textbox.py): a letter typed next would
replace the search.
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
from screens.base import LATER_CSS, KeysInOrder, KioskScreen, type_into
from screens.visit import Visit, mentions_answers
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel


class ServiceButton(Button):
    """A numbered, full-width button for one form."""

    def __init__(self, form: Any, number: int | None) -> None:
        super().__init__(Content(""), id=f"svc-{form.id}", classes="big service")
        self.form = form
        self.number = number

    def relabel(self, lang: str) -> None:
        prefix = f"{self.number}  " if self.number is not None and self.number < 10 else ""
        # A form without the reader's language is listed too, marked "(ru)".
        self.label = Content(prefix + self.form.list_title(lang))


class CategoryHeading(Static):
    """The name of a category above its services."""

    def __init__(self, category: str) -> None:
        super().__init__(Content(""), classes="category", markup=False)
        self.category = category


PAGE = 9  # numbered services on a page: the keys 1-9; 0 turns the page
MORE = N_("More services (page {page} of {pages})")


class ServicesScreen(KeysInOrder, KioskScreen):
    """Choose a service; starts a ``Visit`` and opens its first question."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Any] = []
        self.results: list[Any] = []  # the services the search finds, in catalog order
        self.page = 0
        self._query = ""

    def body(self) -> ComposeResult:
        yield TrLabel(N_("Choose a service"), classes="screen-title")
        # Digits never go in: they choose among the results.
        yield TextBox(id="search", classes="search", restrict=r"[^0-9]*")
        yield VerticalScroll(id="service-list")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            # Beside Back, so it is in sight at every size (under the list it scrolled
            # out of view); shown when the results take more than one page.
            yield TrButton(MORE, prefix="0  ", id="more", page=1, pages=1)

    async def on_mount(self) -> None:
        from kiosk.catalog import Catalog
        from kiosk.store import StoreError

        try:
            listed = await self.kiosk.db.catalog(Catalog.list)
            # Appeals, votes...: forms with screens of their own (docs/appeals.md).
            self.forms = [form for form in listed if form.kind == "application"]
        except StoreError:
            self.forms = []  # the app has shown why; the list says no service is offered
        self.results = list(self.forms)
        await self.show()
        first = self.query(ServiceButton).first()
        if first is not None:
            first.focus()

    def apply_lang(self, lang: str) -> None:
        self.query_one("#search", Input).placeholder = tr(lang, "Search: type a word")
        for button in self.query(ServiceButton):
            button.relabel(lang)
        for heading in self.query(CategoryHeading):
            heading.update(Content(_category_label(heading.category, lang)))

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.results) // PAGE))

    def on_page(self) -> list[Any]:
        """The services of the page shown, numbered 1.. in this order."""
        return self.results[self.page * PAGE : (self.page + 1) * PAGE]

    async def show(self, speak: bool = True) -> None:
        """Rebuild the list: the page's services under their categories, numbered 1-9;
        heard, unless the citizen is typing a search (Enter then says the results)."""
        container = self.query_one("#service-list", VerticalScroll)
        await container.remove_children()
        widgets: list[Any] = []
        category: str | None = None
        for number, form in enumerate(self.on_page(), start=1):
            if form.category != category:
                category = form.category
                widgets.append(CategoryHeading(category))
            widgets.append(ServiceButton(form, number))
        if not widgets:
            widgets.append(TrLabel(N_("No service matches your search."), classes="empty"))
        # Votes and petitions (issue 16): not services, so after them, on every page.
        widgets.append(
            TrButton(N_("Take part: votes and petitions"), id="to-participate", classes="take-part")
        )
        more = self.query_one("#more", TrButton)
        more.set_msg(MORE, page=self.page + 1, pages=self.pages)
        more.display = self.pages > 1
        await container.mount_all(widgets)
        container.scroll_home(animate=False)
        self.apply_lang(self.lang)
        if speak:
            self.speak_page()

    def speak_page(self) -> None:
        """The title, the page's services with their numbers, "0: More services"."""
        from screens.spoken import numbered, sentences

        lang = self.lang
        page = [(n, form.title(lang)) for n, form in enumerate(self.on_page(), start=1)]
        more = ""
        if self.pages > 1:
            more = numbered([(0, tr(lang, MORE, page=self.page + 1, pages=self.pages))])
        empty = "" if page else tr(lang, "No service matches your search.")
        title = tr(lang, "Choose a service")
        self.kiosk.say(sentences(title, empty, numbered(page), more))

    def _filter(self, value: str) -> bool:
        """The results for the search as typed (now, so a digit typed next picks
        among them); True when they changed."""
        from kiosk.search import matches

        query = value.strip()
        if query == self._query and self.results:
            return False
        self._query = query
        self.results = [f for f in self.forms if not query or matches(query, *_searchable(f))]
        self.page = 0
        return True

    @on(Input.Changed, "#search")
    async def _search(self, event: Input.Changed) -> None:
        if self._filter(event.value) or not self.query(ServiceButton):
            await self.show(speak=False)

    @on(Button.Pressed, "#more")
    async def next_page(self) -> None:
        self.page = (self.page + 1) % self.pages
        await self.show()
        search = self.query_one("#search", Input)
        first = self.query(ServiceButton).first()
        if self.focused is not search and first is not None:
            self.set_focus(first)  # the focused button went with the old page

    async def _search_enter(self) -> None:
        page = self.on_page()
        if len(self.results) == 1:
            await self.start(page[0])
        else:
            self.speak_page()  # what the search found, with the numbers to choose by
            first = self.query(ServiceButton).first()
            if first is not None:
                self.set_focus(first)

    async def handle_key(self, event: Key) -> bool:
        search = self.query_one("#search", Input)
        key = event.key
        if key == "escape":
            self._back()
            return True
        if key == "0":
            await self.next_page()
            return True
        if key.isdigit():
            # Among the numbered results, wherever the focus is; never into the box.
            self._filter(search.value)
            page = self.on_page()
            if int(key) <= len(page):
                await self.start(page[int(key) - 1])
            return True
        if self.focused is search:
            if key == "enter":
                self._filter(search.value)
                await self._search_enter()
                return True
            if key == "down":
                self.focus_next()
                return True
            return False  # typed into the box, or its own editing keys
        if event.is_printable and event.character and event.character.isalpha():
            # Letters go to the search box, wherever the focus is: the focus moves
            # now, so the next letter lands there too.
            self.set_focus(search)
            type_into(search, event.character)
            return True
        return False

    @on(Button.Pressed, ".service")
    async def _pressed(self, event: Button.Pressed) -> None:
        assert isinstance(event.button, ServiceButton)
        await self.start(event.button.form)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#to-participate")
    def participate(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("participate"))

    async def start(self, form: Any) -> None:
        from kiosk.engine import FormSession

        kiosk = self.kiosk
        session = FormSession(
            form,
            lang=self.lang,
            today=kiosk.clock.now().date(),
            device_id=await device_id(kiosk),
            clock=kiosk.clock.now,
        )
        # Not a prompt with answers filled in: those are spoken privately, never cached.
        steps = [step for step in session.steps() if not mentions_answers(step)]
        kiosk.prewarm([(session.label(step.ref), self.lang) for step in steps])
        visit = Visit(form, session)
        from screens.prefill import wants_prefill

        if wants_prefill(kiosk, visit):  # operator mode only: never self-service
            await self.app.push_screen(kiosk.new_screen("prefill", visit))
            return
        await kiosk.start_visit(visit)


async def device_id(kiosk: Any) -> str | None:
    """This kiosk's id, for a form's deviceid (kiosk.engine makes a per-form pseudonym of
    it); None where the store cannot say (read-only, failing): the field stays empty."""
    from kiosk.store import StoreError

    def read(store: Any) -> str:
        return str(store.device_id)

    try:
        return await kiosk.db.call(read)
    except StoreError:
        return None


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

"""The widget in a real headless Chromium, embedded in a hostile partner page.

The app runs on one origin (live server); the partner's page comes from a second origin
(another port) with hostile CSS and a strict Content-Security-Policy, and embeds the
widget with the two documented lines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import browser_support
import pytest
from api_support import financing_workshop, guarantee_fund, make_app
from browser_support import BrowserWatch, live_server, screenshot
from playwright.sync_api import expect

from kb import Chunk, Document

browser = browser_support.browser  # the shared fixtures, used by name
watched_page = browser_support.watched_page

DOC_ID = financing_workshop().id
PAYLOAD_TITLE = "<img src=x onerror=alert('titre')> Fonds de dotation"
PAYLOAD_TEXT = "Le fonds de dotation <script>alert('texte')</script> finance l'amorçage."

# What a CMS theme might do to everything on the page, widget included if it could.
HOSTILE_CSS = """
* { all: unset; }
head, script, style, title { display: none; }
html, body, main, header, p { display: block; }
body { font: italic 28px/1 "Comic Sans MS", cursive; color: #c00; background: #222;
       text-decoration: underline wavy lime; letter-spacing: 4px; text-transform: uppercase; }
mark { display: none !important; }
input { display: none !important; }
ul, li, a, span, div, label { display: none !important; color: lime !important; }
[role="listbox"], [role="option"], [role="status"] { display: none !important; }
savoir-faire-search { --sf-accent: #00756a; margin: 16px; }
"""

HOST_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Association partenaire</title>
<link rel="stylesheet" href="/hostile.css">
</head>
<body>
<header><p id="brand">Association partenaire</p></header>
<main>
<p id="intro">Cherchez dans les bonnes pratiques <mark>ESS</mark> :</p>
{embed}
<p id="after">Fin de la page <a href="/agenda">agenda</a>.</p>
<input id="host-input" value="champ de la page hôte">
</main>
</body>
</html>
"""


@dataclass
class HostSite:
    """A partner's website on its own origin: fixed pages, each sent with a strict CSP."""

    origin: str = ""
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    csp: str = ""


@contextmanager
def host_site() -> Iterator[HostSite]:
    site = HostSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            page = site.pages.get(self.path.split("?")[0])
            body = page[0].encode() if page else b""
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", page[1] if page else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            if site.csp:
                self.send_header("Content-Security-Policy", site.csp)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Sites:
    api: str
    host: HostSite

    def embed(self, path: str, attrs: str = 'lang="fr"', extra: str = "") -> str:
        """Publish a host page embedding the widget with the two lines; its URL."""
        snippet = (
            f'<script src="{self.api}/widget.js" defer></script>\n'
            f"<savoir-faire-search {attrs}></savoir-faire-search>"
        )
        self.host.pages[path] = (HOST_PAGE.format(embed=snippet + extra), "text/html")
        return self.host.origin + path


@pytest.fixture
def sites(kb) -> Iterator[Sites]:
    kb.add([
        financing_workshop(),
        Document(
            id="2024-bruxelles--plaidoyer.md",
            title="Plaidoyer européen",
            trip="2024-bruxelles",
            trip_name="Bruxelles 2024",
            chunks=[Chunk(text="Le plaidoyer auprès de la Commission européenne.", position=0)],
        ),
        Document(
            id="payload.md",
            title=PAYLOAD_TITLE,
            trip="2025-barcelone",
            chunks=[Chunk(text=PAYLOAD_TEXT, position=2)],
        ),
    ])
    with host_site() as host:
        app = make_app(kb, cors_origins=[host.origin], frame_ancestors=[host.origin])
        with live_server(app) as api:
            host.pages["/hostile.css"] = (HOSTILE_CSS, "text/css")
            host.csp = (
                f"default-src 'none'; script-src {api}; connect-src {api}; style-src 'self'; "
                f"frame-src {api}"
            )
            yield Sites(api, host)


def host_dom(page) -> str:
    """The host page's own DOM (a custom element's shadow root is not part of it)."""
    return page.evaluate("document.documentElement.outerHTML")


def test_widget_on_a_hostile_strict_csp_page_searches_and_navigates(sites, watched_page):
    page, watch = watched_page
    page.goto(sites.embed("/"))
    widget = page.locator("savoir-faire-search")
    field = widget.locator("input")
    expect(field).to_be_visible()
    expect(field).to_have_attribute("placeholder", "Rechercher une bonne pratique…")
    before = host_dom(page)

    field.click()
    field.press_sequentially("financement participatif")
    options = widget.locator("[role=option]")
    expect(options.first).to_be_visible()
    expect(options.first).to_contain_text("Atelier financement")
    expect(options.first).to_contain_text("Copenhague 2022")
    expect(widget.locator("[role=status]")).to_have_text(re.compile(r"^\d+ résultats?$"))
    expect(field).to_have_attribute("aria-expanded", "true")
    listbox_id = widget.locator("[role=listbox]").get_attribute("id")
    expect(field).to_have_attribute("aria-controls", listbox_id)

    answer = page.request.get(
        f"{sites.api}/api/search", params={"q": "financement participatif", "limit": 5}
    ).json()
    assert options.count() == len(answer["results"])
    note = widget.locator(".note")
    if answer["low_confidence"]:
        expect(note).to_have_text(re.compile("^Pas de correspondance proche"))
    else:
        expect(note).to_be_hidden()

    mark = options.first.locator("mark").first
    expect(mark).to_be_visible()
    expect(mark).to_have_text(re.compile("financement", re.I))
    style = mark.evaluate(
        "m => { const s = getComputedStyle(m);"
        " return [s.display, s.backgroundColor, s.fontFamily, s.textTransform]; }"
    )
    assert style[0] == "inline" and style[1] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert "Comic" not in style[2] and style[3] == "none"  # the host's CSS did not leak in
    title_color = options.first.locator(".title").evaluate("e => getComputedStyle(e).color")
    assert title_color == "rgb(0, 117, 106)"  # themed through --sf-accent

    count = options.count()
    field.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    field.press("ArrowUp")
    expect(options.nth(count - 1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    field.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")

    field.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).not_to_have_attribute("aria-activedescendant", re.compile(".*"))
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")

    assert host_dom(page) == before
    assert page.evaluate("document.adoptedStyleSheets.length") == 0
    assert page.evaluate("document.styleSheets.length") == 1  # only the host's own
    screenshot(page, "widget-host.png")  # after the DOM check: it hides the host's caret

    with page.expect_navigation():
        field.press("Enter")
    assert page.url == f"{sites.api}/documents/{DOC_ID}#passage-4"
    watch.assert_clean()


def test_document_data_renders_as_text_in_the_widget(sites, watched_page):
    page, watch = watched_page
    page.goto(sites.embed("/"))
    field = page.locator("savoir-faire-search input")
    field.fill("fonds de dotation")
    option = page.locator("savoir-faire-search [role=option]", has_text="Fonds de dotation")
    expect(option).to_be_visible()
    expect(option.locator(".title")).to_have_text(PAYLOAD_TITLE)
    expect(option.locator(".snippet")).to_contain_text("<script>alert('texte')</script>")
    injected = page.locator("savoir-faire-search").evaluate(
        "e => e.shadowRoot.querySelectorAll('img, script, [onerror]').length"
    )
    assert injected == 0
    watch.assert_clean()


def test_a_result_shows_the_excerpt_of_its_other_close_passage(sites, watched_page, kb):
    kb.add([guarantee_fund()])
    page, watch = watched_page
    page.goto(sites.embed("/"))
    page.locator("savoir-faire-search input").fill("fonds de garantie")
    option = page.locator("savoir-faire-search [role=option]", has_text="Fonds de garantie")
    expect(option).to_be_visible()
    also = option.locator(".also")
    expect(also).to_be_visible()
    expect(also).to_contain_text("Aussi dans ce document :")
    excerpt = also.locator(".excerpt")
    expect(excerpt).to_have_text(
        "Chaque membre verse au fonds de garantie 0,5 % de son chiffre d'affaires."
    )
    expect(excerpt.locator("mark")).to_have_text(["fonds", "garantie"])
    # the excerpt belongs to the result's one link: one option, one place to go
    assert option.locator("a").count() == 1
    watch.assert_clean()


def test_a_newer_query_aborts_the_one_in_flight(sites, watched_page):
    page, watch = watched_page
    held = []  # the first search is held here, unanswered, until the widget drops it
    page.route(re.compile(r".*/api/search\?q=plaidoyer.*"), lambda route: held.append(route))
    page.goto(sites.embed("/"))
    widget = page.locator("savoir-faire-search")
    field = widget.locator("input")
    field.fill("plaidoyer")
    expect(widget.locator("[role=status]")).to_have_text("Recherche…")
    assert len(held) == 1
    with page.expect_event("requestfailed") as failed:
        field.fill("financement participatif")
    assert "q=plaidoyer" in failed.value.url
    expect(widget.locator("[role=option]").first).to_contain_text("Atelier financement")
    watch.assert_clean()


def test_escape_clears_and_short_queries_do_not_search(sites, watched_page):
    page, watch = watched_page
    page.goto(sites.embed("/"))
    widget = page.locator("savoir-faire-search")
    field = widget.locator("input")
    field.fill("plaidoyer")
    expect(widget.locator("[role=option]").first).to_contain_text("Plaidoyer")
    field.press("Escape")  # closes the list
    field.press("Escape")  # clears the query
    expect(field).to_have_value("")
    expect(widget.locator("[role=status]")).to_have_text("")
    field.fill("p")
    field.press("Enter")
    expect(widget.locator("[role=listbox]")).to_be_hidden()
    watch.assert_clean()


def test_preset_filters_empty_and_error_states(sites, watched_page):
    page, watch = watched_page
    url = sites.embed(
        "/states",
        attrs='id="filtered" trip="2024-bruxelles" lang="en"',
        extra='<savoir-faire-search id="broken" limit="100000"></savoir-faire-search>',
    )
    page.goto(url)
    filtered = page.locator("#filtered")
    filtered.locator("input").fill("financement")
    filtered.locator("input").press("Enter")
    expect(filtered.locator("[role=option]").first).to_contain_text("Plaidoyer")
    expect(filtered.locator("[role=option]", has_text="Atelier financement")).to_have_count(0)
    expect(filtered.locator("input")).to_have_attribute("placeholder", "Search good practices…")

    page.goto(sites.embed("/empty", attrs='trip="nulle-part"'))
    empty = page.locator("savoir-faire-search")
    empty.locator("input").fill("financement")
    expect(empty.locator("[role=status]")).to_have_text("Aucun résultat")
    expect(empty.locator("input")).to_have_attribute("aria-expanded", "false")
    watch.assert_clean()

    page.goto(url)
    broken = page.locator("#broken")
    broken.locator("input").fill("financement")
    expect(broken.locator("[role=status]")).to_have_text("Recherche indisponible")


def test_embed_iframe_on_a_partner_page_and_without_javascript(sites, watched_page, browser):
    page, watch = watched_page
    iframe = f'<iframe src="{sites.api}/embed?q=plaidoyer&amp;lang=fr" title="Recherche"></iframe>'
    sites.host.pages["/iframe"] = (HOST_PAGE.format(embed=iframe), "text/html")
    page.goto(sites.host.origin + "/iframe")
    frame = page.frame_locator("iframe")
    option = frame.locator("savoir-faire-search [role=option]").first
    expect(option).to_contain_text("Plaidoyer européen")
    expect(option.locator("a")).to_have_attribute("target", "_blank")
    watch.assert_clean()

    context = browser.new_context(java_script_enabled=False)
    try:
        static = context.new_page()
        static.goto(f"{sites.api}/embed?q=plaidoyer")
        expect(static.locator(".sf-results li").first).to_contain_text("Plaidoyer européen")
        expect(static.locator(".sf-results mark").first).to_be_visible()
    finally:
        context.close()


def test_embed_demo_copies_the_two_lines_and_shows_the_widget(sites, browser):
    context = browser.new_context(
        locale="fr-FR", permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        watch = BrowserWatch()
        watch.attach(page)
        page.goto(f"{sites.api}/embed-demo")
        two_lines = (
            f'<script src="{sites.api}/widget.js" defer></script>\n'
            '<savoir-faire-search lang="fr"></savoir-faire-search>'
        )
        expect(page.locator("#sf-snippet")).to_have_text(two_lines)
        page.locator("button.sf-copy").first.click()
        expect(page.locator(".sf-copied").first).to_have_text("Copié")
        assert page.evaluate("navigator.clipboard.readText()") == two_lines

        field = page.locator(".sf-preview savoir-faire-search input")
        field.fill("plaidoyer")
        expect(page.locator(".sf-preview [role=option]").first).to_contain_text("Plaidoyer")
        watch.assert_clean()
    finally:
        context.close()

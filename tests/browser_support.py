"""Shared helpers for tests that drive the app in a real headless Chromium.

- `live_server(app)`: serve an ASGI app with uvicorn on 127.0.0.1 in a background
  thread; yields the base URL and stops the server on exit.
- `launch_chromium(playwright)`: Debian's Chromium (`/usr/bin/chromium`) with the flags
  that work in a sandbox-less container; never `playwright install`.
- `BrowserWatch`: records dialogs (alert, confirm…) and console errors of a page.
- Fixtures `browser` (one Chromium per test session) and `watched_page` (a fresh page
  in a French-speaking context, plus its `BrowserWatch`). A test module gets them by
  name: `browser = browser_support.browser`.

Tests that need the browser are skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 and a free port; yield its base URL (no trailing slash).

    The socket is bound and listening before the server thread starts, so the URL is
    usable at once: early connections wait in the backlog instead of failing.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def chromium_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def launch_chromium(playwright: Any, **options: Any) -> Any:
    """Launch headless Debian Chromium through a `sync_playwright()` handle."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **options
    )


@dataclass
class BrowserWatch:
    """What a page did that a test should know about: dialogs and console errors."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors


class _SharedChromium:
    """One Playwright driver and one Chromium per process.

    Playwright's sync API cannot run two drivers in one thread, and each test module that
    uses the `browser` fixture by name gets its own session-scoped instance of it; so the
    instances share this one, and the last to finish closes it.
    """

    def __init__(self) -> None:
        self.users = 0
        self.playwright: Any = None
        self.browser: Any = None

    def acquire(self) -> Any:
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = launch_chromium(self.playwright)
        self.users += 1
        return self.browser

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.browser is not None:
            self.browser.close()
            self.playwright.stop()
            self.browser = self.playwright = None


_shared = _SharedChromium()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole test session."""
    # A missing browser is a set-up error (scripts/test.sh installs it), never a skip.
    assert chromium_available(), "Chromium or Playwright missing: run bash scripts/test.sh"
    chromium = _shared.acquire()
    try:
        yield chromium
    finally:
        _shared.release()


@pytest.fixture
def watched_page(browser: Any) -> Iterator[tuple[Any, BrowserWatch]]:
    """A fresh page in its own context, with dialogs and console errors recorded."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    page = context.new_page()
    watch = BrowserWatch()
    watch.attach(page)
    try:
        yield page, watch
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path

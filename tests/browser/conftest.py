"""Browser fixtures: Playwright driving Debian's /usr/bin/chromium (never a browser of Playwright's own), Lighthouse.

    def test_page(phone_page): ...                        # a 390×844 @3x Android phone, zh-CN
    def test_page(new_phone_page): new_phone_page(locale="en-US")
    def test_scores(lighthouse): lighthouse(url).failed_audits("seo")

Without Chromium (or Lighthouse's node_modules) these tests skip, and fail in CI, like postgres_server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import ADMIN_TOKEN
from tests.factories import Farm
from tests.orchard import Orchard, grow
from tests.servers import Server, free_port

from .lighthouse import CHROMIUM, CHROMIUM_FLAGS, LIGHTHOUSE_CLI, LIGHTHOUSE_DIR, LighthouseResult, run_lighthouse

SCREENSHOTS = os.environ.get("SUYUAN_SCREENSHOTS")

BROWSER_FIXTURES = {"chromium_executable", "chromium", "phone_page", "new_phone_page", "lighthouse"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if BROWSER_FIXTURES & fixtures:
            item.add_marker("browser")
        if "lighthouse" in fixtures:
            item.add_marker("lighthouse")


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium, with a CJK font so that Chinese text renders (not as boxes)."""
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk (.ci/run does)")
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    if not fonts.strip():
        _missing("no Chinese font for Chromium: apt-get install -y fonts-noto-cjk (.ci/run does)")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium(chromium_executable: str) -> Iterator[Browser]:
    """One headless Chromium for the session; each test gets its own context (see new_phone_page)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        yield browser
        browser.close()


def android_chrome_user_agent(browser: Browser) -> str:
    """Chrome on Android as it reports itself (reduced UA), with the running Chromium's major version."""
    major = browser.version.split(".")[0]
    return f"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Mobile Safari/537.36"


@pytest.fixture
def new_phone_page(chromium: Browser) -> Iterator[Callable[..., Page]]:
    """A factory: new_phone_page(locale="zh-CN", **context_options) -> a Page in a fresh phone context.

    Options override the phone's (viewport, timezone_id, color_scheme, ...); contexts close after the test."""
    contexts = []

    def new(locale: str = "zh-CN", **context_options) -> Page:
        options = {
            **PHONE,
            "user_agent": android_chrome_user_agent(chromium),
            "locale": locale,
            "timezone_id": "Asia/Shanghai",
            **context_options,
        }
        context = chromium.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(new_phone_page: Callable[..., Page]) -> Page:
    """A fresh page on an Android phone (390×844 CSS px at 3x, touch, zh-CN, Asia/Shanghai)."""
    return new_phone_page()


@pytest.fixture(scope="session")
def lighthouse(chromium_executable: str) -> Callable[..., LighthouseResult]:
    """run_lighthouse, once its tools are known to be there (see tests/browser/lighthouse.py)."""
    if shutil.which("node") is None or not LIGHTHOUSE_CLI.exists():
        _missing(f"Lighthouse is missing: run `npm ci` in {LIGHTHOUSE_DIR} (.ci/run does)")
    return run_lighthouse


class Live:
    def __init__(self, server: Server, farm: Farm, orchard: Orchard, data: Path) -> None:
        self.server, self.farm, self.orchard = server, farm, orchard
        self.data = data  # the server's SUYUAN_DATA_DIR: its SQLite database is data / "suyuan.db"

    def url(self, path: str) -> str:
        return self.server.url + path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """`suyuan serve` as an operator runs it, with one orchard's season logged through its API."""
    data = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {
        **os.environ,
        "SUYUAN_DATA_DIR": str(data / "data"),
        "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUYUAN_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    server = Server(env, 1, data / "server.log", port=port)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            farm = Farm(client, ADMIN_TOKEN)
            yield Live(server, farm, grow(farm), data / "data")
    finally:
        server.stop()


def open_page(page: Page, url: str) -> list[str]:
    """Loads the page and returns what the browser complained about (CSP violations included)."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(url)
    assert response is not None and response.status == 200
    return problems


def shoot(page: Page, name: str) -> None:
    """Set SUYUAN_SCREENSHOTS=docs/screenshots to refresh the screenshots in the docs."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True, scale="css")

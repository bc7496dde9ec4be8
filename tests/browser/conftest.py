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

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .lighthouse import CHROMIUM, CHROMIUM_FLAGS, LIGHTHOUSE_CLI, LIGHTHOUSE_DIR, LighthouseResult, run_lighthouse

BROWSER_FIXTURES = {"chromium_executable", "chromium", "phone_page", "new_phone_page", "lighthouse"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("browser")


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

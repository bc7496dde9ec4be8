"""What a person sees on a phone after scanning a label (issue #4, item 8), and Lighthouse's scores."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.orchard import grow, recall
from tests.troubles import seed

from .conftest import Live, open_page, shoot


def test_the_chinese_page_of_a_packed_lot_without_javascript(live: Live, new_phone_page):
    page = new_phone_page(locale="zh-CN", java_script_enabled=False)
    lot = live.orchard.packed_lot
    problems = open_page(page, live.url(f"/01/06901234567892/10/{lot}"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("苹果礼盒 · 红富士")
    expect(page.get_by_text("记录完整")).to_be_visible()
    expect(page.get_by_text("采收于 2008年10月22日")).to_be_visible()
    expect(page.get_by_role("heading", name="承诺达标合格证")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    shoot(page, "lot-packed-zh")
    assert problems == []


def test_the_field_lot_shows_its_harvest_photo_and_dates(live: Live, new_phone_page):
    page = new_phone_page(locale="zh-CN")
    problems = open_page(page, live.url(f"/b/{live.orchard.field_lot}"))
    harvest = page.locator("ol.timeline > li").filter(has=page.get_by_role("heading", name="采收"))
    expect(harvest.get_by_text("2008年10月22日")).to_be_visible()
    expect(harvest.get_by_text("1,200 斤")).to_be_visible()
    photo = harvest.get_by_role("img", name="采收 照片 1")
    photo.scroll_into_view_if_needed()
    expect(photo).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(page.get_by_text("安全间隔期")).to_be_visible()
    shoot(page, "lot-field-zh")
    assert problems == []


def test_the_english_page_follows_the_browser_language(live: Live, new_phone_page):
    page = new_phone_page(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    problems = open_page(page, live.url(f"/b/{live.orchard.field_lot}"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("苹果 · 红富士")
    expect(page.get_by_text("Records intact")).to_be_visible()
    expect(page.get_by_text("Oct 22, 2008")).to_be_visible()
    expect(page.get_by_role("img", name="Photo 1 of: Harvest")).to_be_visible()
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.go_back()
    shoot(page, "lot-field-en")
    assert problems == []


def test_a_recall_puts_a_banner_on_the_lot_and_on_what_was_made_from_it(live: Live, new_phone_page):
    orchard = grow(live.farm, grower_name="张三")
    page = new_phone_page(locale="zh-CN")
    open_page(page, live.url(f"/b/{orchard.packed_lot}"))
    expect(page.get_by_role("alert")).to_have_count(0)
    recall(live.farm, orchard, orchard.field_lot)
    page.reload()
    banner = page.get_by_role("alert")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("已召回：请勿食用或销售本产品")
    expect(banner).to_contain_text("农药残留超标")
    assert banner.bounding_box()["y"] < page.get_by_role("heading", level=1).bounding_box()["y"]
    shoot(page, "lot-recalled-zh")
    page.goto(live.url(f"/b/{orchard.field_lot}?lang=en"))
    expect(page.get_by_role("alert")).to_contain_text("This lot was recalled on Oct 26, 2008")


def test_lighthouse_mobile_scores(live: Live, lighthouse):
    for path in (f"/b/{live.orchard.packed_lot}", f"/b/{live.orchard.field_lot}?lang=en"):
        result = lighthouse(live.url(path))
        goals = {"accessibility": 0.95, "best-practices": 0.95, "seo": 0.9}
        for category, goal in goals.items():
            assert result[category] >= goal, (
                f"{path}: {category} {result[category]}: {result.failure_message(category)}"
            )
        # Fast on a 3G phone by construction. Lighthouse's performance score also times the
        # page on this machine (its blocking time went from 28 to 290 ms between two runs of
        # the same page): the facts that make the page fast are asserted instead.
        audits = result.report["audits"]
        assert audits["total-byte-weight"]["numericValue"] < 40 * 1024, path  # HTML, CSS and thumbnails
        assert audits["render-blocking-resources"]["numericValue"] == 0, path  # the stylesheet is inline
        assert audits["cumulative-layout-shift"]["numericValue"] == 0, path  # images have their size
        assert audits["dom-size"]["numericValue"] < 400, path
        assert audits["uses-text-compression"]["score"] == 1, path


def test_a_label_sheet_prints_on_a4_pages(live: Live, new_phone_page):
    page = new_phone_page(
        locale="zh-CN", viewport={"width": 900, "height": 1200}, is_mobile=False, device_scale_factor=1
    )
    lot = live.orchard.packed_lot
    open_page(page, live.url(f"/b/{lot}/labels?count=30"))
    expect(page.locator(".label")).to_have_count(30)
    page.wait_for_function("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    shoot(page, "labels-zh")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    assert len(pages) == 2  # 24 labels to an A4 sheet
    sizes = re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert [(round(float(w)), round(float(h))) for w, h in sizes] == [(595, 842)] * 2  # A4, in points


def test_what_the_records_show_comes_first_on_the_phone_in_both_languages(live: Live, new_phone_page):
    """Issue #11: a buyer sees the finding before anything else, and no green tick."""
    troubles = seed(live.farm)
    for lang, locale, heading, words, authentic in (
        ("zh", "zh-CN", "记录显示的问题", "距2026年9月13日喷施吡虫啉只有 3 天", "记录真实未改"),
        ("en", "en-US", "What the records show", "only 3 days after 吡虫啉 was sprayed", "The records are authentic"),
    ):
        page = new_phone_page(locale=locale, java_script_enabled=False)
        problems = open_page(page, live.url(f"/b/{troubles.interval}?lang={lang}"))
        concerns = page.get_by_role("heading", name=heading)
        expect(concerns).to_be_in_viewport()  # above the fold on a phone
        expect(page.get_by_text(words)).to_be_visible()
        verdict = page.get_by_role("heading", name=authentic)
        assert concerns.bounding_box()["y"] < verdict.bounding_box()["y"]
        expect(page.get_by_text("✓")).to_have_count(0)
        expect(page.get_by_role("heading", name="承诺达标合格证")).to_have_count(0)
        shoot(page, f"lot-finding-{lang}")
        assert problems == []
    page = new_phone_page(locale="zh-CN")
    open_page(page, live.url(f"/b/{troubles.oversold}"))
    expect(page.get_by_text("从本批次出去的共 270 公斤")).to_be_visible()
    shoot(page, "lot-oversold-zh")

"""QR codes and printable label sheets of a lot (issue #4, items 5 and 6)."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from tests.orchard import GTIN, grow


def decode_png(data: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert len(results) == 1 and results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].ec_level == "M"
    return results[0].text


def test_the_qr_code_holds_the_lots_public_url(farm, client):
    orchard = grow(farm)
    field = client.get(f"/b/{orchard.field_lot}/qr.png")
    assert field.status_code == 200 and field.headers["content-type"] == "image/png"
    assert decode_png(field.content) == f"http://testserver/b/{orchard.field_lot}"
    # A lot with a GTIN is labelled with its GS1 Digital Link, which opens the same page.
    url = decode_png(client.get(f"/b/{orchard.packed_lot}/qr.png").content)
    assert url == f"http://testserver/01/{GTIN}/10/{orchard.packed_lot}"
    assert "苹果礼盒" in client.get(url.removeprefix("http://testserver")).text


def test_the_svg_code_is_the_same_symbol_and_scales_for_print(farm, client):
    orchard = grow(farm)
    response = client.get(f"/b/{orchard.packed_lot}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    svg = response.text
    assert re.search(r'viewBox="0 0 (\d+) \1"', svg) and "<script" not in svg
    assert "max-age" in response.headers["cache-control"]


@pytest.mark.parametrize(("count", "sheets"), [(1, 1), (24, 1), (25, 2), (60, 3)])
def test_a_label_sheet_has_as_many_labels_as_asked(farm, client, count, sheets):
    orchard = grow(farm)
    html = client.get(f"/b/{orchard.packed_lot}/labels", params={"count": count}).text
    assert html.count('class="label"') == count and html.count('class="sheet"') == sheets
    assert html.count(f'<img src="/b/{orchard.packed_lot}/qr.svg"') == count
    assert html.count("承诺达标合格证") == count and html.count("苹果礼盒 红富士") == count
    # The certificate's required fields, on every label: quantity, origin, grower and contact, date.
    assert html.count('class="cert">承诺达标合格证') == count
    assert html.count("200 斤 · 陕西省延安市洛川县 · 后山果园 · 王秀英 0911-7654321 · 开具 2008年10月24日") == count
    assert "@page{size:A4" in html


def test_labels_carry_a_certificate_only_while_an_issued_one_stands(farm, client):
    orchard = grow(farm)
    html = client.get(f"/b/{orchard.field_lot}/labels", params={"count": 3, "lang": "en"}).text
    assert html.count('class="label"') == 3 and "承诺达标合格证" not in html and '<html lang="en">' in html
    assert "The grower has not issued this lot's certificate" in html
    uncertified = grow(farm, certified=False).packed_lot
    html = client.get(f"/b/{uncertified}/labels", params={"count": 2}).text
    assert 'class="cert"' not in html and html.count("包装日期 2008年10月24日") == 2  # packed, so dated
    # A failed inspection of the lot it came from withdraws the packed lot's certificate.
    farm.event(orchard.regulator, orchard.field_lot, "inspection", {"test": "农残检测", "result": "fail"})
    html = client.get(f"/b/{orchard.packed_lot}/labels", params={"count": 2, "lang": "en"}).text
    assert 'class="cert"' not in html and "The certificate of this lot was withdrawn" in html


@pytest.mark.parametrize("count", ["0", "-1", "481", "many"])
def test_a_bad_label_count_says_what_is_allowed(farm, client, count):
    lot = grow(farm).packed_lot
    response = client.get(f"/b/{lot}/labels", params={"count": count})
    assert response.status_code == 422 and "count" in response.json()["error"]["message"]

"""QR codes read back by an independent decoder (zxing-cpp): from the PNG, and from the SVG after
drawing its path's squares with Pillow."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import PIL.Image
import PIL.ImageDraw
import pytest
import qrcode
import qrcode.constants
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from public_pages.qr import qr_png, qr_svg

SVG = "{http://www.w3.org/2000/svg}"
URLS = [
    "http://127.0.0.1:8000/b/A1B2C3",
    "https://suyuan.example.cn/01/06901234567892/10/LOT2026A",  # a GS1 Digital Link
]
# One square a dark module, as qrcode's path drawer writes it: M x0,y0 H x1 V y1 H x0 z.
SQUARE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z")


def decode(image: PIL.Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    return found[0]


def png_image(url: str, box_size: int = 8) -> PIL.Image.Image:
    image = PIL.Image.open(io.BytesIO(qr_png(url, box_size=box_size)))
    assert image.format == "PNG"
    return image


def svg_modules(svg: ET.Element) -> list[list[bool]]:
    """The SVG's grid of modules, quiet zone included: a square is dark where the path covers it."""
    x, y, side, height = (int(n) for n in svg.get("viewBox", "").split())
    assert (x, y) == (0, 0) and side == height
    background, path = list(svg)
    assert background.tag == f"{SVG}rect" and background.get("fill") == "#fff"
    assert (background.get("width"), background.get("height")) == (str(side), str(side))
    assert path.tag == f"{SVG}path" and path.get("fill") == "#000"
    d = path.get("d", "")
    squares = [match.groups() for match in SQUARE.finditer(d)]
    assert "".join(match.group() for match in SQUARE.finditer(d)) == d, "the path is only unit squares"
    grid = [[False] * side for _ in range(side)]
    for x0, y0, x1, y1, x0_again in ((int(n) for n in square) for square in squares):
        assert (x1 - x0, y1 - y0, x0_again) == (1, 1, x0)
        assert not grid[y0][x0], "each dark module is drawn once"
        grid[y0][x0] = True
    return grid


def raster(grid: list[list[bool]], scale: int = 8) -> PIL.Image.Image:
    image = PIL.Image.new("L", (len(grid) * scale,) * 2, 255)
    draw = PIL.ImageDraw.Draw(image)
    for y, row in enumerate(grid):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1), fill=0)
    return image


def reference_matrix(url: str) -> list[list[bool]]:
    """What qrcode itself computes for the symbol, quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_the_url_as_a_qr_code_with_error_correction_m(url: str) -> None:
    found = decode(png_image(url))
    assert found.valid
    assert found.text == url
    assert found.bytes == url.encode()
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.ec_level == "M"


@pytest.mark.parametrize("url", URLS)
def test_svg_modules_are_the_symbol_and_decode_to_the_url(url: str) -> None:
    document = qr_svg(url)
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    svg = ET.fromstring(document)
    assert svg.tag == f"{SVG}svg"
    grid = svg_modules(svg)
    assert svg.get("width") == svg.get("height") == f"{len(grid)}mm"
    assert grid == reference_matrix(url)
    found = decode(raster(grid))
    assert (found.text, found.format, found.ec_level) == (url, zxingcpp.BarcodeFormat.QRCode, "M")


@pytest.mark.parametrize("url", URLS)
def test_png_modules_are_the_svg_modules(url: str) -> None:
    grid = svg_modules(ET.fromstring(qr_svg(url)))
    image = png_image(url, box_size=3).convert("L")
    assert image.size == (len(grid) * 3,) * 2
    side = range(len(grid))
    # The centre pixel of each module.
    assert [[image.getpixel((x * 3 + 1, y * 3 + 1)) == 0 for x in side] for y in side] == grid


LABEL = r"[a-z0-9]([a-z0-9-]{0,15}[a-z0-9])?"
hosts = st.from_regex(rf"{LABEL}(\.{LABEL}){{0,3}}(:[0-9]{{1,5}})?", fullmatch=True)
lot_ids = st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)
lot_urls = st.builds("https://{}/b/{}".format, hosts, lot_ids)


@settings(max_examples=30, deadline=None)
@given(lot_urls)
def test_any_lot_url_reads_back_exactly(url: str) -> None:
    assert decode(png_image(url)).text == url
    assert decode(raster(svg_modules(ET.fromstring(qr_svg(url))))).text == url


@pytest.mark.parametrize("box_size", [1, 8])
def test_png_has_a_quiet_zone_of_four_modules_on_each_side(box_size: int) -> None:
    image = png_image(URLS[1], box_size=box_size).convert("L")
    colours = image.getcolors()
    assert colours is not None and {value for _, value in colours} == {0, 255}, "black on white, nothing between"
    quiet = 4 * box_size
    width, height = image.size
    # Every pixel outside the symbol is white, and the finder patterns reach its edges on each side.
    assert PIL.Image.eval(image, lambda v: 255 - v).getbbox() == (quiet, quiet, width - quiet, height - quiet)


def test_answers_are_cached() -> None:
    assert qr_png(URLS[0]) is qr_png(URLS[0])
    assert qr_svg(URLS[0]) is qr_svg(URLS[0])


def test_public_pages_qr_imports_no_ledger_database_or_web_code() -> None:
    code = (
        "import sys, public_pages.qr\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " {'traceability', 'signing', 'sqlalchemy', 'psycopg', 'fastapi', 'starlette', 'httpx'})\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

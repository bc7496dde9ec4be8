"""QR codes for a lot's public URL, printed on labels and shown on its page.

Error correction level M (about 15 % of the symbol can be lost) still reads off a scuffed or
creased label, where L would not, and keeps the symbol smaller than Q or H. The quiet zone is
4 modules, the minimum ISO/IEC 18004 asks for: scanners need it to find the symbol on a busy
label. The SVG has a viewBox of one unit per module, so it stays sharp at any printed size.
Results are cached: the same lot URL is asked for again for every label and page view.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

BORDER = 4
_SVG_NS = "http://www.w3.org/2000/svg"


def _code(url: str, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER, box_size=box_size)
    code.add_data(url)
    code.make(fit=True)
    return code


def _svg_path(url: str) -> tuple[int, str]:
    """The symbol's side in modules, quiet zone included, and its dark modules as one path."""
    # box_size 10 is one SVG unit a module. Only the path is kept: qrcode's <path> carries a fixed
    # id, which would repeat on a sheet of labels, and its root a fixed size and no background.
    image = _code(url, 10).make_image(image_factory=SvgPathImage)
    return image.width + 2 * image.border, image.path.get("d")


@lru_cache(maxsize=1024)
def qr_svg(url: str) -> bytes:
    """A standalone SVG document, 1 mm a module unless its user scales it (labels do)."""
    side, path = _svg_path(url)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {side} {side}" width="{side}mm" height="{side}mm" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    ).encode()


@lru_cache(maxsize=1024)
def qr_png(url: str, *, box_size: int = 8) -> bytes:
    """A black-on-white PNG, box_size pixels a module."""
    image = _code(url, box_size).make_image(image_factory=PilImage, fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()

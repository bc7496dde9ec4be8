"""Keep the zh catalogs in step with the code: `python -m tools.catalogs [translations.json]`.

Extracts each catalog's messages (its babel.cfg), drops translations no longer used, adds
the ones given in the JSON file (`{"English": "中文"}`, a plural as `["单数", "复数"]`... in
Chinese one form: `["中文"]`) and lists what still has none. The test
`tests/public_pages/test_translations.py` holds the catalogs to the same rules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_plural": (1, 2)}
PUBLIC = ROOT / "public_pages"
CATALOGS = (
    (PUBLIC / "babel.cfg", PUBLIC / "translations"),
    (ROOT / "traceability/web/babel.cfg", ROOT / "traceability/web/translations"),
)


def _extracted(config: Path) -> dict:
    with config.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict = {}
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS):
        found.setdefault(message if isinstance(message, str) else tuple(message), None)
    return found


def _read(folder: Path) -> Catalog:
    with (folder / "zh/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale="zh")


def main(given: dict) -> int:
    public = {m.id if isinstance(m.id, str) else tuple(m.id) for m in _read(PUBLIC / "translations") if m.id}
    missing = []
    for config, folder in CATALOGS:
        old = _read(folder)
        wanted = _extracted(config)
        if folder != PUBLIC / "translations":
            wanted = {k: v for k, v in wanted.items() if k not in public}
        new = Catalog(
            locale=old.locale, header_comment=old.header_comment, project=old.project, version=old.version, fuzzy=False
        )
        new.creation_date = old.creation_date
        for key in wanted:
            message = old.get(key[0] if isinstance(key, tuple) else key)
            string = message.string if message is not None and not message.fuzzy else None
            english = key[0] if isinstance(key, tuple) else key
            if english in given:
                string = given[english]
                string = tuple(string) if isinstance(key, tuple) else string
            if not string or (isinstance(string, tuple) and not all(string)):
                missing.append(key)
                continue
            new.add(key, string)
        with (folder / "zh/LC_MESSAGES/messages.po").open("wb") as handle:
            write_po(handle, new, width=0, sort_output=True)
    for key in missing:
        sys.stdout.write(json.dumps(key, ensure_ascii=False) + "\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1 else {}))

"""Rebuild exiftool_gps.json: what exiftool reads from the EXIF of every corpus file.

    .venv/bin/python -m tests.evidence.regenerate_exiftool_fixture   (the corpus at SUYUAN_TEST_CORPUS)

Needs exiftool (`apt-get install libimage-exiftool-perl`). The tests compare read_metadata with
the committed JSON, so running them needs no exiftool. Only the EXIF group is asked for:
exiftool also finds capture times and camera names in maker notes and in CIFF, PictureInfo and
XMP blocks (Reconyx_HC500_Hyperfire, olympus-d320l, sony-powershota5, 30-type_error), which
read_metadata does not read. The GPS position is exiftool's Composite tag: signed by the
hemisphere references, as read_metadata gives it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.corpus import CORPUS, MISSING

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "exiftool_gps.json"
TAGS = (
    "-Composite:GPSLatitude",
    "-Composite:GPSLongitude",
    "-EXIF:DateTimeOriginal",
    "-EXIF:OffsetTimeOriginal",
    "-EXIF:CreateDate",
    "-EXIF:OffsetTimeDigitized",
    "-EXIF:OffsetTime",
    "-EXIF:Make",
    "-EXIF:Model",
    "-EXIF:Orientation",
)
COMMAND = ("exiftool", "-json", "-n", "-G", "-r", *TAGS, ".")


def main() -> None:
    if CORPUS is None:
        raise SystemExit(MISSING)
    version = subprocess.run(("exiftool", "-ver"), capture_output=True, text=True, check=True).stdout.strip()
    found = subprocess.run(COMMAND, cwd=CORPUS, capture_output=True, check=True).stdout
    # exiftool writes control characters from camera strings unescaped, which strict JSON refuses.
    records = json.loads(found.decode("utf-8"), strict=False)
    files = {record.pop("SourceFile").removeprefix("./"): record for record in records}
    fixture = {
        "exiftool_version": version,
        "command": " ".join(COMMAND),
        "files": dict(sorted(files.items())),
    }
    FIXTURE.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{FIXTURE}: {len(files)} files, exiftool {version}")


if __name__ == "__main__":
    main()

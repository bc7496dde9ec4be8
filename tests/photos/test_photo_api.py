"""Photo evidence through the HTTP API (protocol §4)."""

from __future__ import annotations

import hashlib
import io

import exifread
import pytest
from PIL import Image

from tests.conftest import BOTH_DATABASES
from tests.corpus import GPS_PHOTO, corpus_files, read
from tests.factories import exif_place_and_time
from traceability.findings.photo_rules import distance_km
from traceability.storage.models import StoredFinding

both_databases = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def upload(client, account, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post("/api/v1/photos", files={"file": (name, data, content_type)}, headers=account.headers)


def copy_paths(sha: str) -> tuple[tuple[str, str], ...]:
    """Each public copy's field in an evidence item, and where it is served."""
    return (("display", f"/p/{sha}.jpg"), ("thumb", f"/p/{sha}/thumb.jpg"))


def jpeg(color=(120, 160, 60), size=(640, 480), exif: Image.Exif | None = None, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some structure, so perceptual hashes differ between pictures
        image.paste((color[0] // 2, x % 255, 200), (x, (x * 7) % size[1], x + 20, (x * 7) % size[1] + 60))
    image.save(out, "JPEG", quality=quality, exif=exif or Image.Exif())
    return out.getvalue()


@pytest.fixture
def gps_photo() -> dict:
    lat, lon, taken = exif_place_and_time(GPS_PHOTO)
    return {"bytes": GPS_PHOTO.read_bytes(), "lat": lat, "lon": lon, "taken": taken}


@both_databases
def test_upload_keeps_the_original_and_reads_its_metadata(farm, client, services, gps_photo):
    grower = farm.grower()
    response = upload(client, grower, gps_photo["bytes"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(gps_photo["bytes"]).hexdigest()
    assert body["media_type"] == "image/jpeg"
    assert body["exif"]["lat"] == pytest.approx(gps_photo["lat"], abs=1e-6)
    assert body["exif"]["lon"] == pytest.approx(gps_photo["lon"], abs=1e-6)
    assert body["exif"]["taken_at"].startswith(gps_photo["taken"])
    assert body["exif"]["make"] == "NIKON"
    assert services.photos.files.original(body["sha256"]).read_bytes() == gps_photo["bytes"]
    # The same bytes again: the same answer, nothing new stored.
    files_before = sorted(p for p in services.photos.files.root.rglob("*") if p.is_file())
    again = upload(client, grower, gps_photo["bytes"], name="IMG_0001.JPG")
    assert again.status_code == 201 and again.json()["sha256"] == body["sha256"]
    assert sorted(p for p in services.photos.files.root.rglob("*") if p.is_file()) == files_before


def test_public_copies_are_upright_small_and_carry_no_metadata(farm, client, gps_photo):
    grower = farm.grower()
    sha = upload(client, grower, gps_photo["bytes"]).json()["sha256"]
    for path, limit in ((f"/p/{sha}.jpg", 1600), (f"/p/{sha}/thumb.jpg", 320)):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert max(Image.open(io.BytesIO(response.content)).size) <= limit
        assert not any(
            tag.startswith("GPS") for tag in exifread.process_file(io.BytesIO(response.content), details=False)
        )
        assert b"Exif" not in response.content[:200] and b"NIKON" not in response.content
    assert client.get(f"/p/{'0' * 64}.jpg").status_code == 404
    assert client.get("/p/not-a-hash.jpg").status_code in (404, 422)


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("name", corpus_files())
def test_every_corpus_photo_is_accepted_or_clearly_refused(farm, client, name):
    response = upload(client, farm.grower(), read(name), name=name.rsplit("/", 1)[-1])
    assert response.status_code in (201, 413, 415, 422), response.text
    if response.status_code != 201:
        assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"this is a text file, not a photo\n", 415),
        (b"", 415),
        (b"<html><script>alert(1)</script></html>", 415),
        (GPS_PHOTO.read_bytes()[:5000], 422),
    ],
    ids=["text", "empty", "html", "truncated-jpeg"],
)
def test_hostile_files_are_refused_with_a_reason(farm, client, data, status):
    response = upload(client, farm.grower(), data, name="photo.jpg")
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def test_a_decompression_bomb_is_refused_quickly(farm, client):
    out = io.BytesIO()
    Image.new("1", (40_000, 40_000)).save(out, "PNG")  # a few kB that would decode to 1.6 gigapixels
    response = upload(client, farm.grower(), out.getvalue(), name="bomb.png", content_type="image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_pixels"


def test_html_in_exif_is_kept_as_text(farm, client):
    exif = Image.Exif()
    exif[0x010F] = "<script>alert('make')</script>"  # Make
    exif[0x0110] = "<img src=x onerror=alert(1)>"  # Model
    response = upload(client, farm.grower(), jpeg(exif=exif))
    assert response.status_code == 201
    assert response.json()["exif"]["make"] == "<script>alert('make')</script>"


def test_photo_uploads_need_a_grower(farm, client, gps_photo):
    assert client.post("/api/v1/photos", files={"file": ("a.jpg", gps_photo["bytes"], "image/jpeg")}).status_code == 401
    response = upload(client, farm.regulator(), gps_photo["bytes"])
    assert response.status_code == 403
    missing = client.post("/api/v1/photos", data={"other": "x"}, headers=farm.grower().headers)
    assert missing.status_code == 422 and "file" in missing.json()["error"]["message"]


def cite(client, grower, lot, shas, occurred_at, type_="harvest", data=None):
    body = {"type": type_, "occurred_at": occurred_at, "data": data or {"quantity": 10, "unit": "kg"}, "evidence": shas}
    return client.post(f"/api/v1/batches/{lot}/events", json=body, headers=grower.headers)


PHOTO_CODES = {"exif_missing", "exif_time_mismatch", "gps_far_from_plot", "photo_reused", "photo_near_duplicate"}


def codes(response) -> list[str]:
    """The photo warnings (the corpus photos are from 2008, so their records are also `backdated`)."""
    return sorted(w["code"] for w in response.json()["warnings"] if w["code"] in PHOTO_CODES)


@both_databases
def test_an_honest_photo_on_the_plot_at_harvest_time_raises_no_warning(farm, client, services, gps_photo):
    grower = farm.grower()
    plot = farm.plot(grower, lat=gps_photo["lat"] + 0.01, lon=gps_photo["lon"])  # about 1 km away
    lot = farm.batch(grower, plot_id=plot)["lot"]
    sha = upload(client, grower, gps_photo["bytes"]).json()["sha256"]
    response = cite(client, grower, lot, [sha], gps_photo["taken"] + "+02:00")
    assert response.status_code == 201, response.text
    assert codes(response) == []
    record = client.get(f"/api/v1/batches/{lot}").json()["records"][-1]["record"]["payload"]
    served = {copy: hashlib.sha256(client.get(path).content).hexdigest() for copy, path in copy_paths(sha)}
    assert record["evidence"] == [{"sha256": sha, "media_type": "image/jpeg", **served}]


@both_databases
def test_time_and_place_far_from_the_claim_are_flagged(farm, client, services, gps_photo):
    grower = farm.grower()
    plot = farm.plot(grower, lat=35.7621, lon=109.4251)  # Luochuan, far from where the photo was taken
    lot = farm.batch(grower, plot_id=plot)["lot"]
    sha = upload(client, grower, gps_photo["bytes"]).json()["sha256"]
    response = cite(client, grower, lot, [sha], "2026-09-18T09:00:00+08:00")
    assert response.status_code == 201  # warnings never block
    assert codes(response) == ["exif_time_mismatch", "gps_far_from_plot"]
    assert "km" in next(w["message"] for w in response.json()["warnings"] if w["code"] == "gps_far_from_plot")
    with services.sessions() as session:
        stored = session.query(StoredFinding).filter_by(lot=lot).all()
    assert sorted(w.code for w in stored) == ["exif_time_mismatch", "gps_far_from_plot"]
    assert all(w.idx == response.json()["index"] for w in stored)
    # Anyone looking at the lot sees them too, against the record they concern.
    shown = client.get(f"/api/v1/batches/{lot}").json()["warnings"]
    assert sorted(w["code"] for w in shown) == ["exif_time_mismatch", "gps_far_from_plot"]
    assert {w["index"] for w in shown} == {response.json()["index"]}


def test_a_photo_without_metadata_is_only_informational(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower, plot_id=farm.plot(grower))["lot"]
    uploaded = upload(client, grower, jpeg())
    assert codes(uploaded) == ["exif_missing"]
    assert codes(cite(client, grower, lot, [uploaded.json()["sha256"]], "2026-09-18T09:00:00+08:00")) == [
        "exif_missing"
    ]


@both_databases
def test_reuse_of_the_same_photo_by_another_grower_or_lot_is_flagged(farm, client, gps_photo):
    first, second = farm.grower(), farm.grower()
    lot_a = farm.batch(first)["lot"]
    lot_b = farm.batch(first)["lot"]
    sha = upload(client, first, gps_photo["bytes"]).json()["sha256"]
    taken = gps_photo["taken"] + "+08:00"
    assert "photo_reused" not in codes(cite(client, first, lot_a, [sha], taken))
    assert "photo_reused" in codes(cite(client, first, lot_b, [sha], taken))
    assert "photo_reused" in codes(upload(client, second, gps_photo["bytes"]))


@both_databases
def test_a_recompressed_or_cropped_copy_is_a_near_duplicate(farm, client, gps_photo):
    honest, copier = farm.grower(), farm.grower()
    upload(client, honest, gps_photo["bytes"])
    original = Image.open(io.BytesIO(gps_photo["bytes"]))
    width, height = original.size
    for variant in (
        original.copy(),
        original.crop((int(width * 0.05), int(height * 0.05), int(width * 0.95), int(height * 0.95))),
    ):
        out = io.BytesIO()
        variant.save(out, "JPEG", quality=60)
        response = upload(client, copier, out.getvalue())
        assert response.status_code == 201
        assert "photo_near_duplicate" in codes(response)


@both_databases
def test_evidence_must_be_the_growers_own_upload(farm, client, gps_photo):
    owner, other = farm.grower(), farm.grower()
    lot = farm.batch(owner)["lot"]
    others = upload(client, other, gps_photo["bytes"]).json()["sha256"]
    assert cite(client, owner, lot, ["a" * 64], "2026-09-18T09:00:00+08:00").status_code == 422
    refused = cite(client, owner, lot, [others], "2026-09-18T09:00:00+08:00")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_photo"
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 1


def test_distance_is_great_circle():
    # Luochuan to Xi'an, about 165 km.
    assert distance_km((35.7621, 109.4251), (34.3416, 108.9398)) == pytest.approx(164, abs=10)


def test_the_same_new_photo_uploaded_at_once_by_two_growers_is_stored_once(farm, client, services, gps_photo):
    from concurrent.futures import ThreadPoolExecutor

    growers = [farm.grower() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda grower: upload(client, grower, gps_photo["bytes"]), growers))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["sha256"] for a in answers}) == 1
    sha = answers[0].json()["sha256"]
    assert services.photos.files.original(sha).read_bytes() == gps_photo["bytes"]
    assert not list(services.photos.files.root.rglob("*.tmp"))
    # Each of them uploaded it; all but one were told another grower had it first.
    assert sum("photo_reused" in codes(a) for a in answers) == 3

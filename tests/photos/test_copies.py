"""The public copies are the bytes the records bind (protocol §1, §4): a copy whose file was
replaced on the server is never served as the photo a record cites. What is served is checked
here by hashing the HTTP answer, independently of the server's own check."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from sqlalchemy import select

from signing.photos import photo_file
from tests.conftest import BOTH_DATABASES
from tests.corpus import GPS_PHOTO, read
from tests.photos.test_photo_api import copy_paths, jpeg
from traceability.photos import copies, service
from traceability.photos.images import open_image, public_copies
from traceability.storage.database import alembic_config
from traceability.storage.models import Photo

both_databases = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
each_copy = pytest.mark.parametrize("copy", ["display", "thumb"])
# Other JPEG bytes, as someone with access to the disk might put in a copy's place.
IMPOSTOR = jpeg(color=(200, 30, 30))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def served(client, sha: str, copy: str):
    return client.get(dict(copy_paths(sha))[copy])


def cite(farm, client, data: bytes = GPS_PHOTO.read_bytes()) -> dict:
    """Upload a photo, cite it in a record, and answer the record's evidence item for it."""
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    sha = farm.photo(grower, data)
    farm.event(grower, lot, "observation", {"note": "套袋前"}, evidence=[sha])
    payload = client.get(f"/api/v1/batches/{lot}").json()["records"][-1]["record"]["payload"]
    return payload["evidence"][0]


def refused_as_changed(response) -> bool:
    return response.status_code == 404 and response.json()["error"]["code"] == "photo_changed"


@both_databases
def test_a_record_binds_the_very_bytes_its_photos_are_served_as(farm, client):
    item = cite(farm, client)
    assert set(item) == {"sha256", "media_type", "display", "thumb"}
    for copy, path in copy_paths(item["sha256"]):
        response = client.get(path)
        assert response.status_code == 200
        assert sha256(response.content) == item[copy]
        assert photo_file(item, response.content) == copy  # what an auditor's check says too
    assert photo_file(item, GPS_PHOTO.read_bytes()) == "original"
    assert photo_file(item, IMPOSTOR) is None


@each_copy
def test_a_replaced_copy_is_served_as_the_genuine_copy_made_again_from_the_original(farm, client, services, copy):
    item = cite(farm, client)
    path = services.photos.files.path(item["sha256"], copy)
    path.write_bytes(IMPOSTOR)
    response = served(client, item["sha256"], copy)
    assert response.status_code == 200
    assert sha256(response.content) == item[copy]
    assert sha256(path.read_bytes()) == item[copy]  # and the file is mended
    path.unlink()  # a lost copy, likewise
    assert sha256(served(client, item["sha256"], copy).content) == item[copy]


@each_copy
def test_a_replaced_copy_is_refused_when_the_original_cannot_make_it_again(farm, client, services, copy):
    item = cite(farm, client)
    files = services.photos.files
    files.path(item["sha256"], copy).write_bytes(IMPOSTOR)
    files.original(item["sha256"]).write_bytes(IMPOSTOR)
    assert refused_as_changed(served(client, item["sha256"], copy))
    files.original(item["sha256"]).write_bytes(GPS_PHOTO.read_bytes())  # restored from a backup
    assert sha256(served(client, item["sha256"], copy).content) == item[copy]
    other = "thumb" if copy == "display" else "display"
    assert sha256(served(client, item["sha256"], other).content) == item[other]  # untouched all along


@each_copy
def test_a_copy_an_upgraded_encoder_makes_differently_is_refused_not_served(farm, client, services, monkeypatch, copy):
    item = cite(farm, client)
    services.photos.files.path(item["sha256"], copy).write_bytes(IMPOSTOR)
    monkeypatch.setattr(copies, "public_copies", lambda opened: (b"\xff\xd8other", b"\xff\xd8other thumb"))
    assert refused_as_changed(served(client, item["sha256"], copy))


def test_copies_made_again_are_byte_for_byte_the_same():
    data = GPS_PHOTO.read_bytes()
    assert public_copies(open_image(data)) == public_copies(open_image(data))


@pytest.mark.usefixtures("corpus")
def test_every_corpus_photo_makes_the_same_copies_again(copies: dict[str, tuple[bytes, bytes]]):
    different = [name for name, made in copies.items() if public_copies(open_image(read(name))) != made]
    assert different == []


@both_databases
def test_the_migration_takes_the_hashes_of_the_photos_stored_before_it(farm, client, services, monkeypatch):
    files = services.photos.files
    with monkeypatch.context() as patch:  # a record from before copies were bound: it names the original alone
        patch.setattr(service, "evidence_item", lambda photo: {"sha256": photo.sha256, "media_type": "image/jpeg"})
        old = cite(farm, client)
    grower = farm.grower()
    lost, gone = farm.photo(grower, jpeg()), farm.photo(grower, jpeg(color=(10, 90, 200)))
    config = alembic_config(services.engine, files.root)
    command.downgrade(config, "0008")
    files.thumbnail(lost).unlink()
    for name in ("original", "display", "thumb"):
        files.path(gone, name).unlink()
    command.upgrade(config, "head")

    with services.sessions() as session:
        hashes = {p.sha256: (p.display_sha256, p.thumb_sha256) for p in session.scalars(select(Photo))}
    assert set(old) == {"sha256", "media_type"}
    display, thumb = (files.path(old["sha256"], copy).read_bytes() for copy in ("display", "thumb"))
    assert hashes[old["sha256"]] == (sha256(display), sha256(thumb))
    assert sha256(served(client, old["sha256"], "display").content) == sha256(display)
    assert hashes[lost] == (sha256(files.display(lost).read_bytes()), sha256(public_copies(open_image(jpeg()))[1]))
    assert hashes[gone] == (None, None)
    assert refused_as_changed(served(client, gone, "display"))
    # From now on the old record's photo is checked against the hashes the migration took.
    files.display(old["sha256"]).unlink()
    files.original(old["sha256"]).write_bytes(IMPOSTOR)
    assert refused_as_changed(served(client, old["sha256"], "display"))

"""Photo evidence: upload, and the public copies (protocol §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import JSONResponse, Response

from ..deps import ActorDep, PhotosDep, respond
from ..outputs import PhotoOut

router = APIRouter(tags=["photos"])

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the original, lowercase hex")]
UPLOAD_PATH = "/api/v1/photos"
# Public copies never change for a given hash: cache them for a year.
_COPY_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


@router.post(
    UPLOAD_PATH, status_code=201, response_model=PhotoOut, summary="Upload a photo (grower): JPEG, PNG, WebP or HEIC"
)
def upload_photo(
    file: Annotated[UploadFile, File(description="The photo as taken: its bytes are the evidence")],
    actor: ActorDep,
    photos: PhotosDep,
) -> JSONResponse:
    # Content addressing makes a retried upload harmless: the same bytes give the same answer.
    return respond(photos.ingest(actor, file.file.read()))


@router.get(
    "/p/{sha256}.jpg",
    response_class=Response,
    summary="Display copy: upright, at most 1600 px, no metadata; the bytes the citing records bind as `display`",
)
def display_copy(sha256: Sha256Path, photos: PhotosDep) -> Response:
    return _copy(photos.public_copy(sha256, "display"))


@router.get(
    "/p/{sha256}/thumb.jpg",
    response_class=Response,
    summary="Thumbnail: upright, at most 320 px, no metadata; the bytes the citing records bind as `thumb`",
)
def thumbnail(sha256: Sha256Path, photos: PhotosDep) -> Response:
    return _copy(photos.public_copy(sha256, "thumb"))


def _copy(data: bytes) -> Response:
    # The very bytes that were checked are sent (see photos.copies), so they are answered from memory.
    return Response(data, media_type="image/jpeg", headers=_COPY_HEADERS)

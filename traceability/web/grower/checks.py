"""What the grower app asks before it saves, rather than deciding behind the grower's back.

A photo chosen from the phone's gallery may be years old, or from somewhere else: its
capture time and place are then not the record's. When they are further from what the form
holds than the tolerances (SUYUAN_PHOTO_TIME_TOLERANCE_HOURS, ..._DISTANCE_KM), the form
comes back showing both, and the grower picks which is right. An empty place is filled from
the photo: that adds what the form did not say, it changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...lots.inputs import EventIn, Place
from ...photos.service import PhotoDisagrees, PhotoService
from .forms import FormErrors


class PhotoQuestion(FormErrors):
    def __init__(self, question: PhotoDisagrees) -> None:
        super().__init__(["photo_disagrees"])
        self.question = question


def settle_photo(session: Session, photos: PhotoService, event: EventIn, choice: str | None) -> EventIn:
    """The event as the grower wants it: `choice` answers the question ("form" or "photo")."""
    if not event.evidence:
        return event
    occurred = datetime.fromisoformat(event.occurred_at)
    place = getattr(event.data, "place", None)
    if place is None and (found := photos.place(session, event.evidence)) is not None:
        event = _placed(event, found)
    where = (place.lat, place.lon) if place is not None else None
    disagrees = photos.disagreement(session, event.evidence, occurred, where)
    if disagrees is None or choice == "form":
        return event
    if choice != "photo":
        raise PhotoQuestion(disagrees)
    if disagrees.place is not None:
        event = _placed(event, disagrees.place)
    if disagrees.taken_at is not None:
        event = event.model_copy(update={"occurred_at": disagrees.taken_at.astimezone(occurred.tzinfo).isoformat()})
    return event


def _placed(event: EventIn, spot: tuple[float, float]) -> EventIn:
    # To the 6 decimals (0.1 m) a phone's form holds.
    data = event.data.model_copy(update={"place": Place(lat=round(spot[0], 6), lon=round(spot[1], 6))})
    return event.model_copy(update={"data": data})

"""Photos taken on a site visit, kept with the due-diligence task they document.

A photo is accepted by what its bytes are, never by its name or the type a browser
claims: a JPEG (``FF D8 FF``), a PNG (its 8-byte signature) or a HEIC/HEIF image (an ISO
BMFF ``ftyp`` box with a HEIF brand). At most :data:`MAX_PHOTOS` per visit, each at most
:data:`MAX_PHOTO_BYTES` and not empty. Every problem is reported at once, each on
``photos[n]`` (1-based, in the order sent), so nothing is written unless all are good.

The rows are written by :func:`chainfin.services.lending.tasks.record_site_visit` in the
transaction that completes the visit; the log carries each photo's SHA-256 in clear.

>>> photo_problems([Photo("gate.png", b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8))])
[]
>>> [e.field for e in photo_problems([Photo("x.gif", b"GIF89a....")])]
['photos[1]']
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import DueDiligenceTask, TaskAttachment
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import FieldError, NotFound

MAX_PHOTOS = 12
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_NAME_CHARS = 200
MEDIA_TYPES = ("image/jpeg", "image/png", "image/heic")
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})


@dataclass(frozen=True)
class Photo:
    """A file as it arrived: the name the device gave it and its bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def media_type_of(data: bytes) -> str | None:
    """The image type the bytes themselves say, or None for anything else.

    >>> media_type_of(b"\\xff\\xd8\\xff\\xe0" + bytes(16))
    'image/jpeg'
    >>> media_type_of(bytes(4) + b"ftypheic" + bytes(8))
    'image/heic'
    >>> media_type_of(b"%PDF-1.7") is None
    True
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def photo_problems(photos: Sequence[Photo]) -> list[FieldError]:
    """Why these photos cannot be kept (empty when they can), each problem on its photo."""
    if len(photos) > MAX_PHOTOS:
        return [FieldError("photos", f"at most {MAX_PHOTOS} photos, got {len(photos)}")]
    errors: list[FieldError] = []
    for n, photo in enumerate(photos, 1):
        where = f"photos[{n}]"
        if not photo.data:
            errors.append(FieldError(where, f"{photo.name!r} is empty"))
        elif len(photo.data) > MAX_PHOTO_BYTES:
            errors.append(
                FieldError(where, f"{photo.name!r} is larger than {MAX_PHOTO_BYTES} bytes")
            )
        elif media_type_of(photo.data) is None:
            errors.append(FieldError(where, f"{photo.name!r} is not a JPEG, PNG or HEIC image"))
    return errors


def clean_name(name: str, n: int) -> str:
    """The file's own name without any folder, bounded; ``photo-<n>`` when it has none."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:MAX_NAME_CHARS] or f"photo-{n}"


def add_photos(
    session: Session, actor: Principal, task: DueDiligenceTask, photos: Sequence[Photo]
) -> list[TaskAttachment]:
    """Keep checked photos with ``task`` (the caller has checked them and the task)."""
    now = utcnow()
    rows = []
    for n, photo in enumerate(photos, 1):
        media_type = media_type_of(photo.data)
        if media_type is None:  # photo_problems refuses it first
            raise ValueError(f"photo {n} is not an image this service keeps")
        row = TaskAttachment(
            task_id=task.id,
            seq=n,
            bank_id=task.bank_id,
            name=clean_name(photo.name, n),
            media_type=media_type,
            size_bytes=len(photo.data),
            sha256=photo.sha256,
            content=photo.data,
            created_by=actor.label,
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def attachments_of(session: Session, task: DueDiligenceTask) -> list[TaskAttachment]:
    """A task's photos in the order they were taken (the caller loaded the task, scoped)."""
    query = select(TaskAttachment).where(TaskAttachment.task_id == task.id)
    return list(session.scalars(query.order_by(TaskAttachment.seq)))


def attachment_of(session: Session, task: DueDiligenceTask, seq: int) -> TaskAttachment:
    """One of a task's photos (the caller loaded the task, scoped); 404 for any other."""
    row = session.get(TaskAttachment, (task.id, seq))
    if row is None:
        raise NotFound.of("attachment", f"{task.id}/{seq}")
    return row

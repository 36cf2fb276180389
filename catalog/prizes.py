"""Managing the catalog: prizes one by one, pictures, and CSV upload with a ZIP of pictures.

Pictures are checked by their content (Pillow decodes them; the file name
and the browser's content type are ignored), bounded in bytes and pixels,
and re-encoded, which drops anything hidden beside the image. The CSV
upload names pictures inside an uploaded ZIP: read in memory, never
extracted to disk, each member bounded. Fetching pictures from URLs was left
out on purpose: a server that fetches any URL it is given is an SSRF hole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Category, OrderLine, Prize, PrizePicture, PrizeRegion, PrizeRole
from catalog.providers import PROVIDERS
from partner_club import spreadsheets
from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.errors import Conflict, Invalid
from partner_club.regions.models import Region

MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
PICTURE_SIDE = 800
PARTICIPANT_ROLES = ("owner", "seller")


def store_picture(session: Session, data: bytes) -> PrizePicture:
    """A picture the catalog can show, or Invalid saying why not."""
    if not data:
        raise Invalid(_("The picture file is empty."), code="bad_picture")
    if len(data) > MAX_PICTURE_BYTES:
        raise Invalid(_("The picture is too large: at most 5 MB."), code="bad_picture")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "WEBP", "GIF"):
                raise Invalid(_("The picture must be a JPEG, PNG, WebP or GIF image."), code="bad_picture")
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(_("The picture has too many pixels."), code="bad_picture")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            has_alpha = (
                image.mode in ("RGBA", "LA", "P") and "transparency" in image.info
            ) or image.mode == "RGBA"
            image = image.convert("RGBA" if has_alpha else "RGB")
            image.thumbnail((PICTURE_SIDE, PICTURE_SIDE))
            out = io.BytesIO()
            if has_alpha:
                image.save(out, "PNG", optimize=True)
                mimetype = "image/png"
            else:
                image.save(out, "JPEG", quality=85, optimize=True)
                mimetype = "image/jpeg"
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise Invalid(_("This file is not a picture we can read."), code="bad_picture") from None
    encoded = out.getvalue()
    picture = PrizePicture(
        data=encoded,
        mimetype=mimetype,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
    session.add(picture)
    session.flush()
    return picture


@dataclass
class PrizeData:
    category_id: int
    name_en: str
    name_ru: str
    points: int
    value_rub: float
    stock: int
    provider: str = "warehouse"
    provider_sku: str = ""
    description_en: str = ""
    description_ru: str = ""
    region_ids: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    active: bool = True


def _check(session: Session, data: PrizeData, prize_id: int | None) -> None:
    if not data.name_en.strip() or not data.name_ru.strip():
        raise Invalid(_("Give the prize a name in Russian and in English."), code="bad_name")
    if data.points <= 0:
        raise Invalid(_("The price must be at least 1 point."), code="bad_points")
    if data.stock < 0:
        raise Invalid(_("The stock cannot be negative."), code="bad_stock")
    if data.value_rub < 0:
        raise Invalid(_("The money value cannot be negative."), code="bad_value")
    if data.provider not in PROVIDERS:
        raise Invalid(_("Unknown provider “%(name)s”.", name=data.provider), code="bad_provider")
    if not data.provider_sku.strip():
        raise Invalid(_("Give the provider's article (SKU)."), code="bad_sku")
    if session.get(Category, data.category_id) is None:
        raise Invalid(_("Choose a category."), code="bad_category")
    if set(data.roles) - set(PARTICIPANT_ROLES):
        raise Invalid(_("A prize can be limited to shop owners or sellers only."), code="bad_roles")
    same_sku = session.scalar(
        select(Prize.id).where(
            Prize.provider == data.provider, Prize.provider_sku == data.provider_sku.strip()
        )
    )
    if same_sku is not None and same_sku != prize_id:
        raise Invalid(_("Another prize already has this provider and SKU."), code="duplicate_sku")


def save_prize(
    session: Session,
    data: PrizeData,
    *,
    actor: User,
    prize: Prize | None = None,
    picture: bytes | None = None,
) -> Prize:
    _check(session, data, prize.id if prize else None)
    created = prize is None
    prize = prize or Prize()
    prize.category_id = data.category_id
    prize.name_en, prize.name_ru = data.name_en.strip(), data.name_ru.strip()
    prize.description_en, prize.description_ru = data.description_en.strip(), data.description_ru.strip()
    prize.points, prize.stock = data.points, data.stock
    prize.value_kopecks = round(data.value_rub * 100)
    prize.provider, prize.provider_sku = data.provider, data.provider_sku.strip()
    prize.active = data.active
    prize.region_links = [PrizeRegion(region_id=rid) for rid in sorted(set(data.region_ids))]
    prize.role_links = [PrizeRole(role=role) for role in sorted(set(data.roles))]
    if picture:
        prize.picture = store_picture(session, picture)
    session.add(prize)
    session.flush()
    record(
        session,
        actor,
        "catalog.prize_created" if created else "catalog.prize_updated",
        prize,
        points=prize.points,
        stock=prize.stock,
        active=prize.active,
    )
    return prize


def set_stock(session: Session, prize: Prize, stock: int, *, actor: User) -> Prize:
    if stock < 0:
        raise Invalid(_("The stock cannot be negative."), code="bad_stock")
    before = prize.stock
    prize.stock = stock
    session.flush()
    record(session, actor, "catalog.stock", prize, before=before, after=stock)
    return prize


def delete_prize(session: Session, prize: Prize, *, actor: User) -> None:
    """Only a prize nobody ordered can go; an ordered one is hidden instead (its orders keep pointing at it)."""
    if session.scalar(select(OrderLine.id).where(OrderLine.prize_id == prize.id).limit(1)) is not None:
        raise Conflict(_("This prize has orders: hide it instead of deleting it."), code="prize_has_orders")
    record(session, actor, "catalog.prize_deleted", prize, name=prize.name_en, sku=prize.provider_sku)
    session.delete(prize)
    session.flush()


# --- CSV upload -----------------------------------------------------------

CSV_COLUMNS = (
    "category",
    "name_en",
    "name_ru",
    "description_en",
    "description_ru",
    "points",
    "value_rub",
    "stock",
    "provider",
    "provider_sku",
    "regions",
    "roles",
    "active",
    "picture",
)
REQUIRED = ("category", "name_en", "name_ru", "points", "value_rub", "stock", "provider_sku")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def import_prizes(
    session: Session, csv_text: str, pictures_zip: bytes | None, *, actor: User
) -> ImportResult:
    """Creates or updates prizes (by provider + SKU); with any error, nothing is kept (the caller rolls back)."""
    unreadable = spreadsheets.csv_problems(csv_text, delimiter=",")
    if unreadable:
        lines = [_("Line %(line)d: %(message)s", line=line, message=message) for line, message in unreadable]
        return ImportResult(errors=lines[:50])
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(
            _("The CSV lacks the columns: %(columns)s.", columns=", ".join(missing)), code="bad_csv"
        )
    archive = _open_zip(pictures_zip)
    categories = {c.slug: c.id for c in session.scalars(select(Category))}
    regions = {r.iso_code.upper(): r.id for r in session.scalars(select(Region))}
    result = ImportResult()
    for number, row in enumerate(reader, start=2):
        try:
            data = _row_data(row, categories, regions)
            prize = session.scalar(
                select(Prize).where(Prize.provider == data.provider, Prize.provider_sku == data.provider_sku)
            )
            picture = _zip_member(archive, (row.get("picture") or "").strip())
            save_prize(session, data, actor=actor, prize=prize, picture=picture)
            if prize is None:
                result.created += 1
            else:
                result.updated += 1
        except Invalid as error:
            result.errors.append(_("Line %(line)d: %(message)s", line=number, message=error.message))
        if len(result.errors) >= 50:
            break
    return result


def _row_data(row: dict[str, Any], categories: dict[str, int], regions: dict[str, int]) -> PrizeData:
    slug = (row.get("category") or "").strip()
    if slug not in categories:
        raise Invalid(_("unknown category “%(slug)s”", slug=slug), code="bad_category")
    try:
        points, stock = int(row["points"]), int(row["stock"])
        value = float((row.get("value_rub") or "0").replace(",", "."))
    except (TypeError, ValueError):
        raise Invalid(
            _("points and stock must be whole numbers, value_rub a number"), code="bad_number"
        ) from None
    codes = [c.strip().upper() for c in (row.get("regions") or "").split(";") if c.strip()]
    unknown = [c for c in codes if c not in regions]
    if unknown:
        raise Invalid(_("unknown regions: %(codes)s", codes=", ".join(unknown)), code="bad_region")
    return PrizeData(
        category_id=categories[slug],
        name_en=row.get("name_en") or "",
        name_ru=row.get("name_ru") or "",
        description_en=row.get("description_en") or "",
        description_ru=row.get("description_ru") or "",
        points=points,
        value_rub=value,
        stock=stock,
        provider=(row.get("provider") or "warehouse").strip(),
        provider_sku=(row.get("provider_sku") or "").strip(),
        region_ids=[regions[c] for c in codes],
        roles=[r.strip() for r in (row.get("roles") or "").split(";") if r.strip()],
        active=(row.get("active") or "1").strip().lower() not in ("0", "no", "false", "нет"),
    )


MAX_ZIP_MEMBERS = 2000


def _open_zip(data: bytes | None) -> zipfile.ZipFile | None:
    if not data:
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Invalid(_("The pictures file is not a ZIP archive."), code="bad_zip") from None
    if len(archive.infolist()) > MAX_ZIP_MEMBERS:
        raise Invalid(_("The ZIP archive has too many files."), code="bad_zip")
    return archive


def _zip_member(archive: zipfile.ZipFile | None, name: str) -> bytes | None:
    if not name:
        return None
    if archive is None:
        raise Invalid(
            _("picture “%(name)s” named, but no ZIP of pictures uploaded", name=name), code="bad_picture"
        )
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise Invalid(_("picture “%(name)s” is not in the ZIP", name=name), code="bad_picture") from None
    if info.file_size > MAX_PICTURE_BYTES:
        raise Invalid(_("The picture is too large: at most 5 MB."), code="bad_picture")
    with archive.open(info) as member:
        data = member.read(MAX_PICTURE_BYTES + 1)  # the header's size may lie
    if len(data) > MAX_PICTURE_BYTES:
        raise Invalid(_("The picture is too large: at most 5 MB."), code="bad_picture")
    return data


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def all_prizes(session: Session, *, query: str = "") -> Iterable[Prize]:
    statement = select(Prize).order_by(Prize.category_id, Prize.id)
    for word in query.casefold().split()[:5]:
        statement = statement.where(Prize.search_text.contains(word, autoescape=True))
    return session.scalars(statement)

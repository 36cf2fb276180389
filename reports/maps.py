"""Drawing report maps: folium (Leaflet) for the pages, Pillow for the e-mails.

The region shapes are the map: no tile layer is needed, and every script and
stylesheet comes from the app's own static folder (folium's CDN defaults are
replaced), so the map works on an intranet and in tests without internet.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template
from markupsafe import Markup, escape
from PIL import Image, ImageDraw, ImageFont

from reports.kpi import GREY, METRICS, STATUS_COLOURS, STATUS_LABELS
from reports.services import Report, Row

LEAFLET_JS = "vendor/leaflet-1.9.4/leaflet.js"
LEAFLET_CSS = "vendor/leaflet-1.9.4/leaflet.css"
CARD_METRICS = ("packages", "volume_m3", "points", "active_share")
_GEOMETRY_CACHE: dict[tuple[int, int], Any] = {}
# Pillow's built-in font has no Cyrillic; DejaVu Sans is vendored for the pictures.
FONT_PATH = (
    Path(__file__).resolve().parent.parent
    / "partner_club"
    / "static"
    / "vendor"
    / "dejavu-fonts-2.37.3"
    / "DejaVuSans.ttf"
)


@dataclass
class MapParts:
    """What a page template needs to embed a folium map."""

    header: Markup
    html: Markup
    script: Markup


def geometry_of(row_id: int, geometry: str | None) -> Any:
    """The parsed GeoJSON of a region, parsed once per process and shape."""
    if not geometry:
        return None
    key = (row_id, hash(geometry))
    if key not in _GEOMETRY_CACHE:
        if len(_GEOMETRY_CACHE) > 2000:
            _GEOMETRY_CACHE.clear()
        try:
            _GEOMETRY_CACHE[key] = json.loads(geometry)
        except ValueError:
            _GEOMETRY_CACHE[key] = None
    return _GEOMETRY_CACHE[key]


def _coordinates(geometry: Any) -> Iterable[tuple[float, float]]:
    """Every (lon, lat) of a Polygon or MultiPolygon."""
    if not geometry:
        return
    rings = geometry["coordinates"]
    polygons = [rings] if geometry.get("type") == "Polygon" else rings
    for polygon in polygons:
        for ring in polygon:
            for lon, lat, *_rest in ring:
                yield lon, lat


def bounds_of(points: Iterable[tuple[float, float]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of (lon, lat) points."""
    lons, lats = [], []
    for lon, lat in points:
        lons.append(lon)
        lats.append(lat)
    if not lons:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def card_html(row: Row, labels: dict[str, str]) -> str:
    """The hover card of a region, territory or shop: its figures and targets."""
    lines = [
        f"<strong>{escape(row.name)}</strong>",
        f"<span class='kpi-status kpi-{row.status}'>{escape(labels.get(row.status) or STATUS_LABELS[row.status])}</span>",
    ]
    targets = {c.metric.key: c for c in row.checks}
    for key in CARD_METRICS:
        metric = METRICS[key]
        value = metric.value(row.figures)
        text = metric.format(value) if value is not None else labels.get("no_data", "")
        if key in targets:
            text += f" / {metric.format(targets[key].target)}"
        lines.append(f"{escape(labels.get(key) or metric.label)}: {escape(text)}")
    if row.kind != "outlet":
        lines.append(f"{escape(labels['shops'])}: {row.figures.active_shops} / {row.figures.shops}")
    return "<br>".join(lines)


def hull(points: list[tuple[float, float]], pad: float = 0.04) -> list[list[float]]:
    """A padded convex hull of (lat, lon) points as a GeoJSON ring of [lon, lat].

    Territories have no drawn borders: the hull of their shops is the shape
    shown, widened a little so a territory of one shop is still clickable.
    """
    unique = sorted({(lon, lat) for lat, lon in points})
    if len(unique) < 3:
        lon0 = min(p[0] for p in unique) - pad
        lon1 = max(p[0] for p in unique) + pad
        lat0 = min(p[1] for p in unique) - pad
        lat1 = max(p[1] for p in unique) + pad
        return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    ring = lower[:-1] + upper[:-1]
    cx = sum(p[0] for p in ring) / len(ring)
    cy = sum(p[1] for p in ring) / len(ring)
    padded = []
    for x, y in ring:
        dx, dy = x - cx, y - cy
        length = math.hypot(dx, dy) or 1.0
        padded.append([x + pad * dx / length, y + pad * dy / length])
    return [*padded, padded[0]]


class StatusLayer(MacroElement):
    """A GeoJSON layer coloured by each feature's status, from pre-serialised JSON.

    folium's own GeoJson parses, restyles and re-encodes its data in Python;
    the region shapes are already JSON text in the database, so they are
    spliced in as they are, which keeps the country map fast however big the
    shapes are. Hover shows the card; a click opens the feature's page.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
            style: function(f) { return Object.assign({fillColor: f.properties.colour}, {{ this.style|tojson }}); },
            pointToLayer: function(f, latlng) { return L.circleMarker(latlng, {radius: 7}); },
            onEachFeature: function(feature, layer) {
                if (feature.properties.card) {
                    // Open the card below the finger or cursor in the map's upper half, so it is not cut off.
                    layer.on("mouseover mousemove click", function(e) {
                        var tooltip = layer.getTooltip();
                        if (tooltip && e.containerPoint && layer._map) {
                            tooltip.options.direction = e.containerPoint.y < layer._map.getSize().y / 2 ? "bottom" : "top";
                        }
                    });
                    layer.bindTooltip(feature.properties.card, {sticky: true, direction: "top", className: "kpi-card"});
                }
                if (feature.properties.url) {
                    // A finger cannot hover: its first tap shows the card, the second opens the page.
                    layer.on("click", function(e) {
                        var touch = e.originalEvent && e.originalEvent.pointerType === "touch";
                        if (touch && {{ this.get_name() }}.armed !== layer) {
                            {{ this.get_name() }}.armed = layer;
                            layer.openTooltip(e.latlng);
                            return;
                        }
                        window.location.href = feature.properties.url;
                    });
                    layer.on("mouseover", function() { if (layer.setStyle) layer.setStyle({weight: 3}); });
                    layer.on("mouseout", function() { if (layer.setStyle) layer.setStyle({weight: {{ this.style.weight }}}); });
                }
            }
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, features: list[str], name: str, style: dict[str, Any]) -> None:
        super().__init__()
        self._name = name
        # The features are JSON the club serialised itself from its own shapes and figures.
        self.data = Markup('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")  # noqa: S704
        self.style = style

    def render(self, **kwargs: Any) -> None:
        # branca wraps a rendered script in an Element, which compiles it as a
        # Jinja template: a megabyte of shapes through the Jinja lexer. The
        # script is final text, so it goes in as it is.
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(_RawScript(str(script)), name=self.get_name())


class _RawScript(Element):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def _geometry_text(geometry: str | None) -> str | None:
    """The stored GeoJSON text, if it is a shape (checked cheaply, not parsed)."""
    if not geometry or not geometry.lstrip().startswith("{"):
        return None
    return geometry


def _feature(geometry_json: str, row: Row, url: str | None, labels: dict[str, str]) -> str:
    properties = {
        "colour": STATUS_COLOURS[row.status],
        "url": url,
        "card": card_html(row, labels),
        "name": row.name,
    }
    # "</" never appears inside a <script> block: the JSON escapes it.
    encoded = json.dumps(properties, ensure_ascii=False).replace("</", "<\\/")
    return '{"type":"Feature","geometry":' + geometry_json + ',"properties":' + encoded + "}"


def bbox_of(row: Row) -> list[list[float]]:
    """Corners from the stored "min_lon,min_lat,max_lon,max_lat", else from the shape.

    A shape across the antimeridian (Chukotka) has a box around the whole
    world; its eastern-hemisphere part alone is what the view should fit.
    """
    if row.bbox:
        try:
            west, south, east, north = (float(v) for v in row.bbox.split(","))
            if east - west <= 180:
                return [[south, west], [north, east]]
        except ValueError:
            pass
    points = list(_coordinates(geometry_of(row.id, row.geometry)))
    if points and max(p[0] for p in points) - min(p[0] for p in points) > 180:
        points = [p for p in points if p[0] >= 0]
    return bounds_of(points) or []


REGION_STYLE = {"color": "#ffffff", "weight": 1.5, "fillOpacity": 0.75}
OUTLINE_STYLE = {"color": "#5b6675", "weight": 2, "fillOpacity": 0.12}
SHOP_STYLE = {"color": "#1d2430", "weight": 1.5, "fillOpacity": 0.95}


def _base_map(static_url: Callable[[str], str], tile_url: str | None) -> folium.Map:
    fmap = folium.Map(
        location=[60, 90], zoom_start=3, tiles=None, control_scale=False, width="100%", height="100%"
    )
    # Only Leaflet is needed, and it comes from our own static folder.
    fmap.default_js = [("leaflet", static_url(LEAFLET_JS))]
    fmap.default_css = [("leaflet_css", static_url(LEAFLET_CSS))]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="&copy; map tiles", name="tiles").add_to(fmap)
    return fmap


def _parts(fmap: folium.Map) -> MapParts:
    root = fmap.get_root()
    root.render()  # renders the children into header, html and script
    # folium renders escaped HTML and JSON of the club's own data.
    header, html, script = root.header.render(), root.html.render(), root.script.render()
    return MapParts(Markup(header), Markup(html), Markup(script))  # noqa: S704


def country_map(
    report: Report,
    *,
    static_url: Callable[[str], str],
    url_for_region: Callable[[Row], str],
    labels: dict[str, str],
    tile_url: str | None = None,
) -> MapParts:
    fmap = _base_map(static_url, tile_url)
    features, corners = [], []
    for row in report.rows:
        geometry = _geometry_text(row.geometry)
        if geometry is None:
            continue
        features.append(_feature(geometry, row, url_for_region(row), labels))
        corners.extend(bbox_of(row))
    if features:
        fmap.add_child(StatusLayer(features, "regions", REGION_STYLE))
    _fit(fmap, corners)
    return _parts(fmap)


def region_map(
    report: Report,
    *,
    static_url: Callable[[str], str],
    url_for_territory: Callable[[Row], str],
    url_for_outlet: Callable[[Row], str],
    labels: dict[str, str],
    tile_url: str | None = None,
) -> MapParts:
    fmap = _base_map(static_url, tile_url)
    corners: list[list[float]] = []
    outline = _geometry_text(report.total.geometry)
    if outline is not None:
        fmap.add_child(StatusLayer([_feature(outline, report.total, None, labels)], "region", OUTLINE_STYLE))
        corners.extend(bbox_of(report.total))
    territories = [
        _feature(
            json.dumps({"type": "Polygon", "coordinates": [hull(row.points)]}),
            row,
            url_for_territory(row),
            labels,
        )
        for row in report.rows
        if row.points
    ]
    if territories:
        fmap.add_child(StatusLayer(territories, "territories", REGION_STYLE))
    located = [row for row in report.outlets if row.lat is not None and row.lon is not None]
    if located:
        fmap.add_child(
            StatusLayer(
                [
                    _feature(
                        f'{{"type":"Point","coordinates":[{row.lon},{row.lat}]}}',
                        row,
                        url_for_outlet(row),
                        labels,
                    )
                    for row in located
                ],
                "shops",
                SHOP_STYLE,
            )
        )
        corners.extend(bounds_of((row.lon, row.lat) for row in located) or [])
    _fit(fmap, corners)
    return _parts(fmap)


def _fit(fmap: folium.Map, corners: list[list[float]]) -> None:
    if corners:
        south = min(c[0] for c in corners)
        west = min(c[1] for c in corners)
        north = max(c[0] for c in corners)
        east = max(c[1] for c in corners)
        fmap.fit_bounds([[south, west], [north, east]])


# --- a PNG picture for e-mails ------------------------------------------------


def map_png(
    report: Report, *, title: str, legend: dict[str, str], width: int = 800, height: int = 560
) -> bytes:
    """The report's shapes filled by status, drawn with Pillow: no browser needed."""
    shapes: list[tuple[str, list[list[tuple[float, float]]]]] = []
    if report.level == "country":
        for row in report.rows:
            shapes.append((row.status, _rings(geometry_of(row.id, row.geometry))))
    else:
        shapes.append((GREY, _rings(geometry_of(report.total.id, report.total.geometry))))
        for row in report.rows:
            if row.points:
                shapes.append((row.status, [[(x, y) for x, y in hull(row.points)]]))
    dots = [
        (row.lon, row.lat, row.status)
        for row in report.outlets
        if row.lat is not None and row.lon is not None
    ]
    if any(x < -90 for _s, rings in shapes for ring in rings for x, _y in ring) and any(
        x > 90 for _s, rings in shapes for ring in rings for x, _y in ring
    ):
        # Shapes across the antimeridian (Chukotka): draw the far side east of 180°.
        shapes = [
            (status, [[(x + 360 if x < 0 else x, y) for x, y in ring] for ring in rings])
            for status, rings in shapes
        ]
    all_points = [p for _s, rings in shapes for ring in rings for p in ring] + [(x, y) for x, y, _s in dots]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT_PATH), 14) if FONT_PATH.exists() else ImageFont.load_default()
    draw.text((12, 10), title, fill="#1d2430", font=font)
    if all_points:
        project = _projection(all_points, (12, 34, width - 12, height - 60))
        for status, rings in shapes:
            for ring in rings:
                if len(ring) >= 3:
                    fill = (
                        STATUS_COLOURS[status] if report.level == "country" or status != GREY else "#eef0f2"
                    )
                    draw.polygon([project(p) for p in ring], fill=fill, outline="white")
        for lon, lat, status in dots:
            x, y = project((lon, lat))
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=STATUS_COLOURS[status], outline="#1d2430")
    x = 12
    for status, label in legend.items():
        draw.rectangle((x, height - 34, x + 14, height - 20), fill=STATUS_COLOURS[status])
        draw.text((x + 20, height - 34), label, fill="#1d2430", font=font)
        x += 30 + int(draw.textlength(label, font=font))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    if not geometry:
        return []
    polygons = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry["coordinates"]
    return [[(p[0], p[1]) for p in polygon[0]] for polygon in polygons]


def _projection(points: list[tuple[float, float]], box: tuple[int, int, int, int]):
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    mid = math.radians((min(lats) + max(lats)) / 2)
    squeeze = max(math.cos(mid), 0.2)  # equirectangular, narrowed by latitude
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span_x = max((east - west) * squeeze, 1e-6)
    span_y = max(north - south, 1e-6)
    scale = min((box[2] - box[0]) / span_x, (box[3] - box[1]) / span_y)
    offset_x = box[0] + ((box[2] - box[0]) - span_x * scale) / 2
    offset_y = box[1] + ((box[3] - box[1]) - span_y * scale) / 2

    def project(point: tuple[float, float]) -> tuple[float, float]:
        return (offset_x + (point[0] - west) * squeeze * scale, offset_y + (north - point[1]) * scale)

    return project

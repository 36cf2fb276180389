"""The time zone of a region: the club spans eleven zones, Kaliningrad to Kamchatka.

Messages wait for the morning in it (`notifications.zones`) and fraud's night rules
read a shop's local hour by it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZONE_REGIONS = {
    "Europe/Kaliningrad": "KGD",
    "Europe/Samara": "SAM UD",
    "Europe/Ulyanovsk": "ULY",
    "Europe/Saratov": "SAR",
    "Europe/Astrakhan": "AST",
    "Europe/Volgograd": "VGG",
    "Asia/Yekaterinburg": "BA CHE KGN ORE PER SVE TYU KHM YAN",
    "Asia/Omsk": "OMS",
    "Asia/Novosibirsk": "NVS",
    "Asia/Barnaul": "ALT AL",
    "Asia/Tomsk": "TOM",
    "Asia/Novokuznetsk": "KEM",
    "Asia/Krasnoyarsk": "KYA KK TY",
    "Asia/Irkutsk": "IRK BU",
    "Asia/Chita": "ZAB",
    "Asia/Yakutsk": "AMU",
    "Asia/Vladivostok": "PRI KHA YEV",
    "Asia/Magadan": "MAG",
    "Asia/Sakhalin": "SAK",
    "Asia/Kamchatka": "KAM CHU",
}
# Russia: every region not listed above keeps Moscow time.
REGION_ZONES: dict[str, str] = {
    f"RU-{code}": zone for zone, codes in _ZONE_REGIONS.items() for code in codes.split()
}
REGION_ZONES["RU-SA"] = "Asia/Yakutsk"  # Sakha: the capital's zone (the far east of it runs later)
# Kazakhstan has kept one zone (UTC+5) since March 2024; the western regions were +5 before.
KZ_ZONES = {
    "AKT": "Asia/Aqtobe",
    "ATY": "Asia/Atyrau",
    "MAN": "Asia/Aqtau",
    "ZAP": "Asia/Oral",
    "KZY": "Asia/Qyzylorda",
}
COUNTRY_ZONES = {"RU": "Europe/Moscow", "KZ": "Asia/Almaty", "UA": "Europe/Kyiv", "BY": "Europe/Minsk"}


def region_zone(iso_code: str) -> str | None:
    """The IANA zone of an ISO 3166-2 region code (RU-NVS -> Asia/Novosibirsk)."""
    if iso_code in REGION_ZONES:
        return REGION_ZONES[iso_code]
    country, _, local = iso_code.partition("-")
    if country == "KZ" and local in KZ_ZONES:
        return KZ_ZONES[local]
    return COUNTRY_ZONES.get(country)


def zone_info(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None

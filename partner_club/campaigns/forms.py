"""The staff's campaign form: lists are typed comma-separated; the period in a chosen time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from partner_club.campaigns import services
from partner_club.campaigns.models import CAP_FIELDS, COMBINE_LABELS, MECHANIC_LABELS, Campaign

_OPTIONAL_INT = [Optional(), NumberRange(min=-1_000_000_000, max=1_000_000_000)]


def _words(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").replace(";", ",").split(",") if part.strip()]


def _numbers(raw: str | None) -> list[int]:
    return [int(part) for part in _words(raw) if part.isdigit()]


class CampaignForm(FlaskForm):
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    description_ru = TextAreaField(_l("Description in Russian"), validators=[Optional(), Length(max=4000)])
    description_en = TextAreaField(_l("Description in English"), validators=[Optional(), Length(max=4000)])
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    time_zone = StringField(_l("Time zone"), default=services.DEFAULT_ZONE, validators=[DataRequired()])
    mechanic = SelectField(_l("Mechanic"), choices=[(k.value, v) for k, v in MECHANIC_LABELS.items()])
    value = FloatField(_l("Multiplier or bonus points"), validators=[InputRequired()])
    n = IntegerField(_l("N, packages"), validators=[Optional()])
    regions = StringField(_l("Regions (ISO codes, comma-separated; empty: all)"), validators=[Optional()])
    territory_ids = StringField(_l("Territories (numbers)"), validators=[Optional()])
    shop_kinds = StringField(_l("Kinds of shop"), validators=[Optional()])
    roles = StringField(_l("Roles (owner, seller)"), validators=[Optional()])
    outlet_ids = StringField(_l("Named shops (numbers)"), validators=[Optional()])
    skus = StringField(_l("Products (SKUs; empty: all)"), validators=[Optional()])
    product_kinds = StringField(_l("Product kinds"), validators=[Optional()])
    packages = StringField(_l("Package types"), validators=[Optional()])
    cap_person_day = IntegerField(_l("Cap per person per day, points"), validators=_OPTIONAL_INT)
    cap_person_week = IntegerField(_l("Cap per person per week, points"), validators=_OPTIONAL_INT)
    cap_person_period = IntegerField(_l("Cap per person for the period, points"), validators=_OPTIONAL_INT)
    cap_shop_day = IntegerField(_l("Cap per shop per day, points"), validators=_OPTIONAL_INT)
    cap_shop_week = IntegerField(_l("Cap per shop per week, points"), validators=_OPTIONAL_INT)
    cap_shop_period = IntegerField(_l("Cap per shop for the period, points"), validators=_OPTIONAL_INT)
    budget = IntegerField(_l("Budget, points (empty: no limit)"), validators=_OPTIONAL_INT)
    combine = SelectField(
        _l("With other campaigns"), choices=[(k.value, v) for k, v in COMBINE_LABELS.items()]
    )
    priority = IntegerField(_l("Priority"), default=0, validators=[Optional()])
    control_percent = FloatField(_l("Control group, % of shops left out"), default=0, validators=[Optional()])

    def fill(self, campaign: Campaign) -> None:
        zone = ZoneInfo(campaign.time_zone)
        for name in (
            "name_ru",
            "name_en",
            "description_ru",
            "description_en",
            "time_zone",
            "mechanic",
            "value",
            "n",
        ):
            getattr(self, name).data = getattr(campaign, name)
        self.starts_at.data = campaign.starts_at.astimezone(zone).replace(tzinfo=None)
        self.ends_at.data = campaign.ends_at.astimezone(zone).replace(tzinfo=None)
        for name in (
            "regions",
            "territory_ids",
            "shop_kinds",
            "roles",
            "outlet_ids",
            "skus",
            "product_kinds",
            "packages",
        ):
            getattr(self, name).data = ", ".join(str(v) for v in getattr(campaign, name))
        for name in (*CAP_FIELDS, "budget", "combine", "priority"):
            getattr(self, name).data = getattr(campaign, name)
        self.control_percent.data = round(campaign.control_share * 100, 1)

    def to_data(self) -> services.CampaignData:
        zone = (self.time_zone.data or services.DEFAULT_ZONE).strip()
        try:
            starts, ends = (services.local_to_utc(f.data, zone) for f in (self.starts_at, self.ends_at))
        except (ZoneInfoNotFoundError, ValueError):
            starts = ends = None
        return services.CampaignData(
            name_ru=self.name_ru.data or "",
            name_en=self.name_en.data or "",
            description_ru=self.description_ru.data or "",
            description_en=self.description_en.data or "",
            starts_at=starts or self.starts_at.data,
            ends_at=ends or self.ends_at.data,
            time_zone=zone,
            mechanic=self.mechanic.data,
            value=self.value.data,
            n=self.n.data,
            regions=[w.upper() for w in _words(self.regions.data)],
            territory_ids=_numbers(self.territory_ids.data),
            shop_kinds=_words(self.shop_kinds.data),
            roles=_words(self.roles.data),
            outlet_ids=_numbers(self.outlet_ids.data),
            skus=_words(self.skus.data),
            product_kinds=_words(self.product_kinds.data),
            packages=_words(self.packages.data),
            budget=self.budget.data,
            combine=self.combine.data,
            priority=self.priority.data or 0,
            control_share=(self.control_percent.data or 0) / 100,
            **{cap: getattr(self, cap).data for cap in CAP_FIELDS},
        )


class BonusRulesForm(FlaskForm):
    welcome_points = IntegerField(
        _l("Welcome points (0: none)"), validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    referral_points = IntegerField(
        _l("Referral points (0: none)"), validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    referral_after = IntegerField(
        _l("Paid once the new shop has this many accepted registrations"),
        default=1,
        validators=[Optional(), NumberRange(1, 10_000)],
    )

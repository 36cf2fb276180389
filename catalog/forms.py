from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class CheckoutForm(FlaskForm):
    address = TextAreaField(
        _l("Delivery address"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Town, street, house number, flat; the postcode if you know it."),
    )
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=32)])
    # Made once when the page is shown: a second click sends the same key.
    idempotency_key = HiddenField()


class TaxProfileForm(FlaskForm):
    inn = StringField(
        _l("Your INN (taxpayer number, 12 digits)"), validators=[DataRequired(), Length(max=20)]
    )
    consent = BooleanField(
        _l(
            "I agree that the organizer, as tax agent, reports my prizes and pays the tax on them "
            "on my behalf."
        )
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PrizeForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    description_ru = TextAreaField(_l("Description in Russian"), validators=[Optional(), Length(max=4000)])
    description_en = TextAreaField(_l("Description in English"), validators=[Optional(), Length(max=4000)])
    points = IntegerField(
        _l("Price in points"), validators=[InputRequired(), NumberRange(min=1, max=10_000_000)]
    )
    value_rub = DecimalField(
        _l("Money value, roubles (for the prize tax)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0, max=10_000_000)],
    )
    stock = IntegerField(_l("In stock"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])
    provider = SelectField(_l("Provider"))
    provider_sku = StringField(_l("Provider's article (SKU)"), validators=[DataRequired(), Length(max=64)])
    regions = SelectMultipleField(
        _l("Only in these regions (none chosen: everywhere)"), coerce=int, validators=[Optional()]
    )
    roles = MultiCheckboxField(
        _l("Only for (none ticked: every participant)"),
        choices=[("owner", _l("shop owners")), ("seller", _l("sellers"))],
    )
    active = BooleanField(_l("Shown in the catalog"), default=True)
    picture = FileField(_l("Picture (JPEG, PNG, WebP; at most 5 MB)"))


class StockForm(FlaskForm):
    stock = IntegerField(_l("In stock"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])


class ImportForm(FlaskForm):
    csv_file = FileField(_l("Prizes, CSV (UTF-8)"))
    pictures = FileField(_l("Pictures, ZIP (optional)"))


class ShipForm(FlaskForm):
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(min=4, max=64)])


class CancelForm(FlaskForm):
    reason = StringField(
        _l("Reason (the participant reads it)"), validators=[DataRequired(), Length(max=500)]
    )


class TaxSettingsForm(FlaskForm):
    allowance_rub = IntegerField(
        _l("Tax-free allowance per person and year, roubles"),
        validators=[InputRequired(), NumberRange(min=0, max=10_000_000)],
    )
    rate_percent = DecimalField(
        _l("Tax rate, percent"), places=2, validators=[InputRequired(), NumberRange(min=0, max=99)]
    )

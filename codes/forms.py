from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from codes.issuing import MAX_BATCH_COUNT


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the package"), validators=[DataRequired(), Length(max=200)])


class ProductForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = StringField(_l("Product type"), validators=[Optional(), Length(max=64)])
    package = StringField(_l("Package type"), validators=[Optional(), Length(max=64)])
    volume_m3 = StringField(_l("Package volume, m3"), validators=[Optional(), Length(max=20)])
    points = StringField(
        _l("Points"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("A number per package, or a number per cubic metre such as 120/m3"),
    )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file: sku,name,kind,package,volume_m3,points"), validators=[DataRequired()])


class BatchForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int, validators=[InputRequired()])
    count = IntegerField(
        _l("Number of codes"), validators=[InputRequired(), NumberRange(min=1, max=MAX_BATCH_COUNT)]
    )
    region_id = SelectField(_l("Region it ships to"), coerce=int, default=0)
    distributor = StringField(_l("Distributor"), validators=[Optional(), Length(max=200)])
    production_lot = StringField(_l("Production lot"), validators=[Optional(), Length(max=100)])
    is_canary = BooleanField(_l("Canary codes (never printed; a registration means a leak)"))


class VoidRangeForm(FlaskForm):
    from_serial = IntegerField(_l("From serial"), validators=[InputRequired(), NumberRange(min=1)])
    to_serial = IntegerField(_l("To serial"), validators=[InputRequired(), NumberRange(min=1)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class LabelsForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download

    first = IntegerField(_l("From serial"), default=1, validators=[InputRequired(), NumberRange(min=1)])
    last = IntegerField(_l("To serial"), default=24, validators=[InputRequired(), NumberRange(min=1)])
    layout = SelectField(
        _l("Sheet"),
        choices=[("a4", _l("A4, 3 x 8 labels")), ("label", _l("Label printer, 58 x 40 mm"))],
        default="a4",
    )

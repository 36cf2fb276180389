from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from partner_club.accounts.forms import DecimalCommaField
from partner_club.accounts.models import ROLE_LABELS
from partner_club.admin.services import STAFF_ACCOUNT_ROLES
from partner_club.outlets.models import OUTLET_KINDS


class RegionForm(FlaskForm):
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])


class TerritoryForm(FlaskForm):
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Territory name"), validators=[DataRequired(), Length(max=200)])
    rep_id = SelectField(_l("Sales representative"), coerce=int)


class StaffForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(r.value, ROLE_LABELS[r]) for r in STAFF_ACCOUNT_ROLES])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    login = StringField(_l("Phone or e-mail (login)"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    region_id = SelectField(_l("Region (regional managers)"), coerce=int)


class OutletForm(FlaskForm):
    name = StringField(_l("Shop name"), validators=[DataRequired(), Length(max=200)])
    legal_name = StringField(_l("Legal name"), validators=[Length(max=300)])
    tax_number = StringField(_l("Tax number (INN)"), validators=[Length(max=20)])
    address = StringField(_l("Address"), validators=[Length(max=500)])
    kind = SelectField(_l("Kind"), choices=[(k, k) for k in OUTLET_KINDS])
    region_id = SelectField(_l("Region"), coerce=int)
    territory_id = SelectField(_l("Territory"), coerce=int)
    lat = DecimalCommaField(_l("Latitude"), validators=[Optional()])
    lon = DecimalCommaField(_l("Longitude"), validators=[Optional()])
    active = BooleanField(_l("Active"))


class BlockForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the person sees it)"), validators=[DataRequired(), Length(max=2000)])


class UnblockForm(FlaskForm):
    """Only the CSRF token."""


class InvitationDaysForm(FlaskForm):
    valid_days = IntegerField(
        _l("New invitations are valid for, days"), validators=[InputRequired(), NumberRange(min=1, max=365)]
    )

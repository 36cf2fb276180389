"""The profile page's forms: details, a new e-mail or phone, its code, the channels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from partner_club.accounts.profile import TIME_ZONES

LANGUAGE_CHOICES = [("ru", "Русский"), ("en", "English")]


class DetailsForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    time_zone = SelectField(
        _l("Time zone"), choices=[("", _l("As the shop's region"))] + [(z, z) for z in TIME_ZONES]
    )


class EmailForm(FlaskForm):
    value = StringField(_l("New e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Your current password"), validators=[DataRequired(), Length(max=200)])


class PhoneForm(FlaskForm):
    value = StringField(_l("New phone number"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Your current password"), validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from the message"),
        validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits."))],
    )

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from partner_club.accounts.invitations import MAX_CARDS
from partner_club.accounts.services import MIN_PASSWORD_LENGTH, normalize_login
from partner_club.accounts.signup import validate_inn
from partner_club.errors import DomainError


class LoginForm(FlaskForm):
    login = StringField(_l("Phone or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class DecimalCommaField(FloatField):
    """A number typed with a comma or a dot (Russian keyboards give a comma)."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = float(valuelist[0].strip().replace(",", "."))
            except ValueError:
                self.data = None
                raise ValueError(_("Enter a number, like 55.7963.")) from None
        else:
            self.data = None


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class IssueCardsForm(FlaskForm):
    territory_id = SelectField(_l("Territory"), coerce=int, validators=[DataRequired()])
    count = IntegerField(
        _l("Number of cards"), default=8, validators=[InputRequired(), NumberRange(min=1, max=MAX_CARDS)]
    )
    valid_days = IntegerField(
        _l("Valid for, days"), validators=[InputRequired(), NumberRange(min=1, max=365)]
    )
    label = StringField(_l("Note on the cards (optional)"), validators=[Optional(), Length(max=200)])


class SellerCodeForm(FlaskForm):
    valid_days = IntegerField(
        _l("Valid for, days"), validators=[InputRequired(), NumberRange(min=1, max=365)]
    )


class JoinCodeForm(FlaskForm):
    code = StringField(_l("Invitation code"), validators=[DataRequired(), Length(max=100)])


class PersonForm(FlaskForm):
    full_name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    login = StringField(_l("Phone or e-mail (your login)"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )

    def validate_login(self, field: StringField) -> None:
        try:
            normalize_login(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from None


MODE_SHOP = "shop"
MODE_INDIVIDUAL = "individual"


class ShopSignupForm(PersonForm):
    mode = RadioField(
        _l("I join"),
        default=MODE_SHOP,
        choices=[
            (MODE_SHOP, _l("with my shop, as its owner")),
            (MODE_INDIVIDUAL, _l("on my own, without a shop")),
        ],
    )
    trade_name = StringField(_l("Shop name (on the signboard)"), validators=[Length(max=200)])
    legal_name = StringField(_l("Legal name"), validators=[Length(max=300)])
    tax_number = StringField(_l("Tax number (INN)"), validators=[Length(max=20)])
    address = StringField(_l("Address"), validators=[Length(max=500)])
    region_id = SelectField(_l("Region"), coerce=int, validate_choice=False)
    lat = DecimalCommaField(_l("Latitude"), validators=[Optional()])
    lon = DecimalCommaField(_l("Longitude"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.mode.data != MODE_SHOP:
            return ok
        for name in ("trade_name", "legal_name", "tax_number", "address"):
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors.append(_("This field is required."))
                ok = False
        if not self.region_id.data:
            self.region_id.errors.append(_("Choose the region."))
            ok = False
        if (self.tax_number.data or "").strip():
            try:
                validate_inn(self.tax_number.data)
            except DomainError as error:
                self.tax_number.errors.append(error.message)
                ok = False
        return ok


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ForgotPasswordForm(FlaskForm):
    login = StringField(_l("Your e-mail (your login)"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )

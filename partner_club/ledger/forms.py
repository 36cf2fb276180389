from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from partner_club.ledger.policy import EXPIRY_MODES, RULE_MODES


class ExpiryPolicyForm(FlaskForm):
    mode = RadioField(_l("Points expire"), choices=list(EXPIRY_MODES.items()), validators=[InputRequired()])
    months = IntegerField(_l("Months"), validators=[Optional(), NumberRange(min=0, max=120)])


class PointValueForm(FlaskForm):
    amount = StringField(_l("Value of one point"), validators=[DataRequired(), Length(max=20)])
    currency = StringField(_l("Currency"), default="RUB", validators=[DataRequired(), Length(min=3, max=3)])


class RegistrationRuleForm(FlaskForm):
    mode = RadioField(
        _l("Who gets the points of a registered code"),
        choices=list(RULE_MODES.items()),
        validators=[InputRequired()],
    )
    person_percent = IntegerField(
        _l("The person's share, percent"), validators=[Optional(), NumberRange(min=0, max=100)]
    )


class AdjustForm(FlaskForm):
    amount = IntegerField(
        _l("Points (negative to take away)"),
        validators=[InputRequired(), NumberRange(min=-1_000_000, max=1_000_000)],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])

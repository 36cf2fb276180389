from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from partner_club.support.models import STATUS_LABELS, TOPIC_LABELS
from partner_club.support.services import MAX_PAGE, MAX_TEXT


class TicketForm(FlaskForm):
    topic = RadioField(
        _l("What is it about?"),
        choices=[(topic.value, label) for topic, label in TOPIC_LABELS.items()],
        validators=[DataRequired(_l("Choose what your request is about."))],
    )
    text = TextAreaField(
        _l("Your question or feedback"),
        validators=[DataRequired(_l("Write your question or feedback.")), Length(max=MAX_TEXT)],
        render_kw={"rows": 5, "maxlength": MAX_TEXT},
    )
    photo = FileField(
        _l("Photo or screenshot (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    page = HiddenField(validators=[Length(max=MAX_PAGE)])


class ReplyForm(FlaskForm):
    text = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write your message.")), Length(max=MAX_TEXT)],
        render_kw={"rows": 4, "maxlength": MAX_TEXT},
    )
    photo = FileField(
        _l("Photo or screenshot (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    resolve = BooleanField(_l("The question is settled: mark it resolved"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()])

"""Checkout reads a phone number as sign-up does (phonenumbers, Russia by default)."""

import pytest

from catalog.services import clean_delivery, parse_delivery_phone
from partner_club.errors import Invalid


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("9161112233", "+79161112233"),
        ("8 916 111-22-33", "+79161112233"),
        ("+7 (916) 111 22 33", "+79161112233"),
        ("+380 44 123 4567", "+380441234567"),
        ("+7 701 123 4567", "+77011234567"),
    ],
)
def test_a_phone_is_stored_in_e164(typed, stored):
    assert parse_delivery_phone(typed) == stored
    assert clean_delivery("Казань, ул. Баумана, 5, кв. 7", typed)[1] == stored


@pytest.mark.parametrize("typed", ["12345", "call me", "+9161112233", "   "])
def test_a_number_that_is_not_a_phone_is_refused_on_the_phone_field(typed):
    with pytest.raises(Invalid) as refused:
        parse_delivery_phone(typed)
    assert refused.value.code == "bad_phone" and refused.value.details["field"] == "phone"

"""Every e-mail renders in the recipient's language, in the brand's layout, with a text part."""

from __future__ import annotations

from partner_club.emails import render_email
from partner_club.settings_store import put_setting


def test_the_password_reset_speaks_the_recipients_language(app, db):
    link = "http://club.test/password/reset/abc"
    subject, text, html = render_email("password_reset", locale="ru", name="Анна", link=link, minutes=60)
    assert subject == "Клуб партнёров: новый пароль"
    assert "Здравствуйте, Анна!" in text and link in text
    assert 'lang="ru"' in html and "Клуб партнёров" in html and f'href="{link}"' in html
    subject, text, html = render_email("password_reset", locale="en", name="Ann", link=link, minutes=60)
    assert subject == "Partner Club: a new password" and "Hello, Ann!" in text
    assert 'lang="en"' in html and ">Partner Club</span>" in html


def test_an_unknown_language_falls_back_to_the_clubs(app, db):
    for locale in (None, "de"):
        subject, _text, _html = render_email("password_reset", locale=locale, name="X", link="l", minutes=1)
        assert subject == "Клуб партнёров: новый пароль"


def test_the_layout_carries_the_stored_brand_and_escapes_what_it_is_given(app, db):
    put_setting(db.session, "brand", {"name_en": "Paint Club", "primary": "#123456", "logo": "/static/x.png"})
    db.session.commit()
    url = "http://club.test/prizes/orders"
    subject, text, html = render_email(
        "notifications/email",
        locale="en",
        title="Order 17 was cancelled",
        body="<b>out of stock</b>",
        url=url,
    )
    assert subject == "Order 17 was cancelled"
    assert "<b>out of stock</b>" in text  # plain text is not HTML-escaped
    assert "&lt;b&gt;out of stock&lt;/b&gt;" in html and "<b>out of stock" not in html
    assert "Paint Club" in html and "background-color:#123456" in html
    assert 'src="http://club.test/static/x.png"' in html
    assert f'href="{url}"' in html and url in text
    assert "max-width:600px" in html  # fluid up to 600 px: phones and desktop clients


def test_an_svg_logo_becomes_the_png_icon_mail_clients_show(app, db):
    put_setting(db.session, "brand", {"logo": "/static/brand/logo.svg"})
    db.session.commit()
    _subject, _text, html = render_email("password_reset", locale="en", name="X", link="l", minutes=1)
    assert 'src="http://club.test/static/brand/icon-192.png"' in html and ".svg" not in html

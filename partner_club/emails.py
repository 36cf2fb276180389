"""Every e-mail of the club, rendered from templates in the recipient's language.

An e-mail is two templates, under `templates/email/` for the core's and under
`templates/<package>/email/` for a domain package's (so its texts belong to its
catalog):

- `NAME.txt`: the subject on its first line, a blank line, then the plain text;
- `NAME.html`: extends `email/_layout.html` (the brand's header and footer, a
  table layout with inline styles that mail clients and phones read) and fills
  its `content` block.

`render_email("NAME", locale="ru", **context)` renders both inside
`force_locale(locale)`, so a message built by a command or a job (no request,
so no browser language) still speaks the recipient's language. The brand, the
club's address and the locale are added to the context.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from partner_club.brand import brand_for
from partner_club.extensions import db

LANGUAGES = ("ru", "en")
EMAIL_ICON = "/static/brand/icon-192.png"


def recipient_locale(locale: str | None) -> str:
    """The language of a person's mail: theirs if the club speaks it, else the club's default."""
    if locale in LANGUAGES:
        return locale
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
    return default if default in LANGUAGES else "ru"


def render_email(template: str, *, locale: str | None, **context: Any) -> tuple[str, str, str]:
    """(subject, plain text, html) of `email/<template>` in `locale`."""
    language = recipient_locale(locale)
    path = template if "/" in template else f"email/{template}"  # a package's own: "catalog/email/..."
    public_url = current_app.config["PUBLIC_URL"]
    with force_locale(language):
        brand = brand_for(db.session(), current_app.config, language)
        logo = brand.logo
        if logo.lower().endswith(".svg"):  # Gmail and Outlook show no SVG: the app icon instead
            logo = EMAIL_ICON
        logo = logo if logo.startswith(("http://", "https://")) else public_url + logo
        context = {"brand": brand, "logo_url": logo, "public_url": public_url, "locale": language, **context}
        subject, _, text = render_template(f"{path}.txt", **context).partition("\n")
        html = render_template(f"{path}.html", subject=subject.strip(), **context)
    return subject.strip(), text.strip("\n") + "\n", html

"""Length limits that people can see while they type, and that refuse rather than cut.

WTForms' ``Length`` validator renders ``maxlength`` on the input, and a browser then silently
cuts pasted or typed text at the limit: a 20,000-character reflection was saved as its first
10,000. Every form here is a ``FlaskForm``, so one rendering hook changes that for all of them:

* no ``maxlength`` attribute: the server's ``Length`` check refuses over-long text with a
  message and the form keeps all of it, so nothing is cut;
* a hint under each text field, "Up to 10,000 characters.", tied to the field with
  ``aria-describedby``: it works without JavaScript; ``static/js/character-count.js`` adds a
  live count ("9,950 characters left", "12 characters too many") when scripts run (the script
  is added only to pages with such a field).

Email and password fields, and hidden ones, have no hint: their limits are never reached.
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length

#: fields with a larger limit (pasted credentials) show no hint: it would only be noise
HINT_UP_TO = 100_000


def max_length(field) -> int | None:
    """The smallest ``Length(max=...)`` on a text field, or ``None``."""
    if not isinstance(field, StringField | TextAreaField) or isinstance(
        field, EmailField | HiddenField | PasswordField
    ):
        return None
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max and v.max > 0]
    return min(limits) if limits else None


_original_render_field = FlaskForm.Meta.render_field


def _render_field(self, field, render_kw):
    limit = max_length(field)
    if limit is None:
        return _original_render_field(self, field, render_kw)
    kw = dict(render_kw)
    kw["maxlength"] = False  # the browser would cut silently; the server refuses instead
    if limit > HINT_UP_TO:
        return _original_render_field(self, field, kw)
    hint_id = f"{field.id}-limit"
    if has_request_context():
        g.character_counts = True  # base.html then adds the script that counts as people type
    described = kw.pop("aria-describedby", None) or kw.pop("aria_describedby", None)
    kw["aria_describedby"] = f"{described} {hint_id}" if described else hint_id
    kw["data_limit"] = limit
    html = _original_render_field(self, field, kw)
    hint = Markup(
        '<span class="hint char-limit" id="{}" data-limit-for="{}">Up to {} characters.</span>'
    ).format(hint_id, field.id, f"{limit:,}")  # format escapes what it fills in
    return html + hint


def _forget_counts() -> None:
    # ``g`` outlives a request when an app context was already pushed (tests)
    g.pop("character_counts", None)


def init_app(app) -> None:
    """Render every form's text fields with a visible limit and no ``maxlength``."""
    FlaskForm.Meta.render_field = _render_field
    app.before_request(_forget_counts)

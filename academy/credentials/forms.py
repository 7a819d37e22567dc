"""The public verification form: paste a credential or upload its file."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length

MAX_UPLOAD = 2_000_000


class VerifyForm(FlaskForm):
    credential = TextAreaField(
        "Paste the credential",
        validators=[Length(max=MAX_UPLOAD, message="That is too long to be a credential.")],
        description=(
            "The signed text (it starts with “ey” and has two dots), or the whole .jwt or .json "
            "file's contents."
        ),
    )
    file = FileField("Or upload the credential file", description="A .jwt or .json file.")

    def submitted_text(self) -> str | None:
        """The credential typed or uploaded (the upload wins), or None with an error set."""
        upload = self.file.data
        if upload is not None and getattr(upload, "filename", ""):
            raw = upload.read(MAX_UPLOAD + 1)
            if len(raw) > MAX_UPLOAD:
                self.file.errors = ["That file is too large to be a credential."]
                return None
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                self.file.errors = ["That file is not a credential (it is not text)."]
                return None
        text = (self.credential.data or "").strip()
        if not text:
            self.credential.errors = ["Paste a credential or choose a credential file."]
            return None
        return text

"""The learner's portfolio as a printable A4 summary (fpdf2).

Built from the same rows as the portfolio pages (``entries_for``): the learner's name, the date
range, totals, a table of entries (dates, title, provider, method, hours, participatory hours,
verified or self-recorded, themes), then each entry's reflections, with page numbers in the
footer. Text is set in DejaVu Sans when the system has it (any script prints); otherwise in the
PDF core font, with characters it cannot show replaced.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from academy.accounts.models import User
from academy.portfolio.models import METHODS, THEMES, LearningRecordEntry

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
REFLECTION_FIELDS = (
    ("relevance", "Topic and relevance to practice"),
    ("learnt", "What I learnt"),
    ("change_to_practice", "How I changed or improved my practice"),
    ("impact", "Impact on the people I support"),
    ("peer_reflection", "Peer reflection"),
    ("learner_note", "My note"),
)
HEADINGS = (
    "Dates",
    "Title",
    "Provider",
    "Method",
    "Hours",
    "Partic.",
    "Record",
    "Themes",
)
WIDTHS = (22, 40, 28, 20, 11, 11, 18, 30)  # millimetres: 180 of A4's 210


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _day(value: date | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class SummaryPDF(FPDF):
    """A4 portrait with the learner's name and 'Page n of m' in every footer."""

    def __init__(self, learner: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.learner = learner
        files = _font_files()
        self.unicode = files is not None
        if files:
            self.add_font("Body", "", str(files[0]))
            self.add_font("Body", "B", str(files[1]))
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(f"Learning record: {self.clean(learner)}")
        self.set_author("Relational Learning Academy")
        self.set_creator("Relational Learning Academy")

    def clean(self, text: str | None) -> str:
        """``text`` as the font can print it (control characters dropped)."""
        text = "".join(
            ch for ch in (text or "") if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
        )
        if self.unicode:
            return text
        folded = unicodedata.normalize("NFKD", text)
        return folded.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.clean(f"{self.learner}: learning record"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def render_pdf(user: User, entries: list[LearningRecordEntry], today: date) -> bytes:
    """The summary for ``user``'s ``entries`` (as ``entries_for`` returns them) as PDF bytes."""
    pdf = SummaryPDF(user.name)
    pdf.add_page()
    family = pdf.family_name
    counted = [e for e in entries if e.counts]
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 10, "Learning record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 13)
    pdf.cell(0, 8, pdf.clean(user.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    if entries:
        first = min(e.started_on or e.completed_on for e in entries)
        last = max(e.completed_on for e in entries)
        span = f"Learning from {_day(first)} to {_day(last)}."
    else:
        span = "No learning recorded yet."
    pdf.cell(0, 6, span + f" Printed {_day(today)}.", new_x="LMARGIN", new_y="NEXT")
    total = sum(e.hours or 0 for e in counted)
    participatory = sum(e.participatory_hours or 0 for e in counted)
    verified = sum(1 for e in counted if e.verified)
    withdrawn = len(entries) - len(counted)
    totals = (
        f"{len(counted)} entries: {total:g} hours, of which {participatory:g} participatory. "
        f"{verified} verified by a provider, {len(counted) - verified} self-recorded."
    )
    if withdrawn:
        totals += f" {withdrawn} withdrawn by the provider (not counted)."
    pdf.multi_cell(0, 6, totals, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    if entries:
        pdf.set_font(family, "", 7.5)
        with pdf.table(
            col_widths=WIDTHS,
            text_align="LEFT",
            v_align="TOP",
            line_height=3.6,
            padding=1,
            headings_style=FontFace(emphasis="BOLD", fill_color=(225, 228, 232)),
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for text in HEADINGS:
                heading.cell(text)
            for entry in entries:
                dates = _day(entry.completed_on)
                if entry.started_on and entry.started_on != entry.completed_on:
                    dates = f"{_day(entry.started_on)} to {dates}"
                record = "Verified" if entry.verified else "Self-recorded"
                if not entry.counts:
                    record = "Withdrawn (not counted)"
                themes = ", ".join(THEMES.get(t, t).split(":")[0] for t in entry.themes or [])
                row = table.row()
                for text in (
                    dates,
                    entry.title,
                    entry.provider_name,
                    METHODS.get(entry.method, entry.method),
                    _hours(entry.hours),
                    _hours(entry.participatory_hours),
                    record,
                    themes,
                ):
                    row.cell(pdf.clean(text))

    reflective = [e for e in entries if any(getattr(e, key) for key, _ in REFLECTION_FIELDS)]
    if reflective:
        pdf.ln(6)
        pdf.set_font(family, "B", 14)
        pdf.cell(0, 9, "Reflections", new_x="LMARGIN", new_y="NEXT")
        for entry in reflective:
            pdf.set_font(family, "B", 11)
            pdf.multi_cell(
                0,
                6,
                pdf.clean(f"{entry.title} ({_day(entry.completed_on)})"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            for key, label in REFLECTION_FIELDS:
                text = getattr(entry, key)
                if not text:
                    continue
                if key == "peer_reflection" and (entry.peer_name or entry.peer_role):
                    who = ", ".join(p for p in (entry.peer_name, entry.peer_role) if p)
                    label = f"{label} (with {who})"
                pdf.set_font(family, "B", 9)
                pdf.cell(0, 5, pdf.clean(label), new_x="LMARGIN", new_y="NEXT")
                pdf.set_font(family, "", 9)
                pdf.multi_cell(0, 4.6, pdf.clean(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())

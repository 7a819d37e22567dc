"""The pagination bar: the first and last page, the pages near the current one, and gaps."""

from __future__ import annotations

import pytest

from academy.formatting import page_window


@pytest.mark.parametrize(
    ("page", "pages", "shown"),
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (3, 5, [1, 2, 3, 4, 5]),
        (4, 10, [1, 2, 3, 4, 5, 6, None, 10]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (1, 500, [1, 2, 3, None, 500]),
        (250, 500, [1, None, 248, 249, 250, 251, 252, None, 500]),
        (500, 500, [1, None, 498, 499, 500]),
    ],
)
def test_page_window(page, pages, shown):
    assert page_window(page, pages) == shown


def test_the_bar_links_nearby_pages_and_marks_gaps(client, make_course):
    for number in range(70):
        make_course(f"Course {number:02d}")
    html = client.get("/courses?per_page=10&page=1").get_data(as_text=True)
    assert 'aria-current="page"' in html and 'aria-hidden="true">…' in html
    assert "page=3" in html and "page=7" in html and "page=5" not in html
    html = client.get("/courses?per_page=10&page=4").get_data(as_text=True)
    assert 'rel="prev"' in html and 'aria-hidden="true">…' not in html

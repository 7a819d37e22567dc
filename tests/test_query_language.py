"""The query language (``search/query.py``): every word required, "phrases", -word and NOT, OR,
odd syntax never an error; and how the page and the API say what matched and what did not.

Runs on SQLite, and on PostgreSQL with ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import pytest

from academy.extensions import db
from academy.search import get_store, indexer
from academy.search.query import parse_query
from tests.test_search import ODD_QUERIES, search, titles

PRISON_PD = "Personality disorder in prison"
PRISON_PSYCHOLOGY = "Psychology for prison officers"
HOUSING_TRAUMA = "Trauma-informed housing"
PRISON_TRAUMA = "Trauma behind bars"
GREEN = "Green care in practice"
HORTICULTURE = "Therapeutic horticulture"
REFLECTIVE = "Reflective practice groups"


@pytest.fixture
def catalogue(indexed, make_course):
    """A few courses whose words overlap on purpose; indexed once written."""
    indexed.mode = "off"
    make_course(PRISON_PD, summary="Working with personality disorder on a prison wing.")
    make_course(PRISON_PSYCHOLOGY, summary="Basic psychology of behaviour change in custody.")
    make_course(HOUSING_TRAUMA, summary="How trauma shapes tenancy and homelessness.")
    make_course(PRISON_TRAUMA, summary="Trauma and its effects for staff in a prison.")
    make_course(GREEN, summary="Care farming and nature-based practice.")
    make_course(HORTICULTURE, summary="Growing food together as a way of working.")
    make_course(REFLECTIVE, summary="Facilitating reflective groups where practice is discussed.")
    make_course("Practice that reflects", summary="A course on practice; it reflects on teams.")
    indexer.sync(get_store(), db.engine)
    indexed.mode = "inline"


def test_every_word_is_required(client, catalogue):
    # the one course with both words first; then, as so few match, the course missing "prison"
    # (never one missing "trauma", the rarer word)
    assert search(client, "trauma prison") == [PRISON_TRAUMA, HOUSING_TRAUMA]
    # AND narrows to courses with every word: never more than either word alone finds
    assert search(client, "trauma AND prison") == [PRISON_TRAUMA]
    assert len(search(client, "trauma")) == 2 and len(search(client, "prison")) == 3


def test_not_and_minus_exclude(client, catalogue):
    assert search(client, "trauma NOT prison") == [HOUSING_TRAUMA]
    assert search(client, "trauma -prison") == [HOUSING_TRAUMA]
    assert PRISON_PD not in search(client, 'prison -"personality disorder"')
    assert PRISON_PSYCHOLOGY in search(client, 'prison -"personality disorder"')
    # a hyphen inside a word is part of the word, not an exclusion
    assert search(client, "trauma-informed") == [HOUSING_TRAUMA]


def test_or_accepts_either_side(client, catalogue):
    assert set(search(client, "horticulture OR farming")) == {GREEN, HORTICULTURE}
    assert search(client, "horticulture or farming") == []  # lower case "or" is a word
    # OR binds the words beside it: "care" is still required
    assert search(client, "care horticulture OR farming") == [GREEN]


def test_quotes_keep_words_together_in_order(client, catalogue):
    assert search(client, '"reflective practice"') == [REFLECTIVE]
    assert search(client, '"reflective groups"') == [REFLECTIVE]
    assert search(client, '"groups reflective"') == []  # both words, in the other order
    assert REFLECTIVE in search(client, "groups reflective")


@pytest.mark.parametrize("q", [*ODD_QUERIES, "-", "--trauma", 'NOT "', "OR OR", "- NOT -"])
def test_odd_syntax_never_errors_on_the_page_or_the_api(client, catalogue, q):
    assert client.get("/courses", query_string={"q": q}).status_code == 200
    response = client.get("/api/v1/courses", query_string={"q": q})
    assert response.status_code == 200 and isinstance(response.get_json()["results"], list)


def test_parse_reads_operators_and_drops_what_stands_alone():
    parsed = parse_query('"unbalanced trauma OR -prison NOT')
    assert [unit.text for unit in parsed.units] == ["unbalanced", "trauma"]
    assert [unit.text for unit in parsed.excluded] == ["prison"]
    parsed = parse_query('green OR "care farm" -"the" AND')
    assert [unit.alternatives for unit in parsed.units] == [(("green",), ("care", "farm"))]
    assert parsed.excluded == []  # a phrase of stop words excludes nothing


def test_partial_matches_follow_full_ones_and_are_marked(client, catalogue):
    response = client.get("/courses", query_string={"q": "trauma prison"})
    assert titles(response) == [PRISON_TRAUMA, HOUSING_TRAUMA]
    html = response.get_data(as_text=True)
    assert "1 course matches every word; the others match some of them." in html
    assert html.count("Matches some of your words") == 1
    data = client.get("/api/v1/courses", query_string={"q": "trauma prison"}).get_json()
    assert [r["matches_every_word"] for r in data["results"]] == [True, False]
    assert data["search"]["full_matches"] == 1 and data["total"] == 2
    everything = client.get("/api/v1/courses", query_string={"q": "trauma AND prison"})
    assert [r["matches_every_word"] for r in everything.get_json()["results"]] == [True]


def test_nothing_fits_says_so_with_the_closest_step_and_fewer_words(client, catalogue):
    response = client.get("/courses", query_string={"q": "prison knitting"})
    html = response.get_data(as_text=True)
    assert titles(response) == []
    assert "No courses match “prison knitting”" in html
    assert "The closest courses are at step" in html and "?step=" in html
    assert "Courses do match" in html and "q=prison" in html
    data = client.get("/api/v1/courses", query_string={"q": "prison knitting"}).get_json()
    assert data["results"] == [] and data["total"] == 0
    search_summary = data["search"]
    assert search_summary["nothing_fits"] is True
    assert search_summary["fewer_words"] == "prison"
    assert search_summary["closest_step"]["slug"]
    shorter = client.get("/api/v1/courses", query_string={"q": "trauma knitting -prison"})
    assert shorter.get_json()["search"]["fewer_words"] == "trauma -prison"  # keeps the exclusion


def test_help_page_explains_the_language(client):
    html = client.get("/search-help").get_data(as_text=True)
    for example in ("trauma -prison", "NOT", "OR", "&#34;reflective practice&#34;"):
        assert example in html or example.replace("&#34;", '"') in html
    courses = client.get("/courses").get_data(as_text=True)
    assert 'href="/search-help"' in courses


def test_words_as_typed_rank_above_words_that_only_share_a_stem(client, indexed, make_course):
    # Porter stems both "universe" and "university" to "univers"
    # the same lengths; the first made would win a tie
    make_course("Pre-University Calculus", summary="Kept short.")
    make_course("Universe Mysteries Explained", summary="Kept short.")
    assert search(client, "universe") == ["Universe Mysteries Explained", "Pre-University Calculus"]
    assert search(client, "university")[0] == "Pre-University Calculus"


def test_words_next_to_each_other_rank_above_the_same_words_apart(client, indexed, make_course):
    for n in range(6):
        make_course(f"Filler course {n}", summary="Something else entirely.")
    # the same words and lengths; only the order differs (and the first made wins a tie)
    make_course("Learning room machine", summary="Kept safe.")
    make_course("Room machine learning", summary="Kept safe.")
    assert search(client, "machine learning") == [
        "Room machine learning",
        "Learning room machine",
    ]


def test_a_word_most_courses_have_is_not_required(client, indexed, make_course):
    make_course("Python for everybody", summary="Start programming.")
    make_course("Data structures in Python", summary="An introduction to lists and dictionaries.")
    found = search(client, "introduction to python")
    assert set(found) == {"Python for everybody", "Data structures in Python"}
    assert found[0] == "Data structures in Python"  # "introduction" still counts for ranking


def test_the_rarest_word_is_taken_among_words_courses_show(client, indexed, make_course):
    # "spreadsheets" is rarer, but only ever in a description: no course is about it, so the
    # courses about Excel may follow the one full match
    make_course(
        "Actuarial science",
        summary="Risk and insurance mathematics.",
        description="Exercises use Excel spreadsheets throughout.",
    )
    make_course("Excel for beginners", summary="Formulas, charts and tables in Excel.")
    make_course("Excel: data management", summary="Importing and cleaning data in Excel.")
    make_course("Cooking", summary="Recipes.", description="Shared through Excel each week.")
    data = client.get("/api/v1/courses", query_string={"q": "excel spreadsheets"}).get_json()
    found = [result["title"] for result in data["results"]]
    assert found[0] == "Actuarial science" and data["search"]["full_matches"] == 1
    assert set(found[1:]) == {"Excel for beginners", "Excel: data management"}


def test_a_word_with_few_matches_is_followed_by_its_shorter_family(client, indexed, make_course):
    make_course("Global public health", summary="Includes an introduction to epidemiology.")
    make_course("Epidemics I", summary="The science and control of epidemics.")
    make_course("Epistemology", summary="What we know and how.")
    data = client.get("/api/v1/courses", query_string={"q": "epidemiology"}).get_json()
    found = [result["title"] for result in data["results"]]
    assert found == ["Global public health", "Epidemics I"]
    assert [result["matches_every_word"] for result in data["results"]] == [True, False]
    # with enough full matches, the family does not pad the page
    for n in range(5):
        make_course(f"Epidemiology {n}", summary="Kept short.")
    assert "Epidemics I" not in search(client, "epidemiology")


def test_courses_with_more_of_the_words_in_their_title_rank_first(client, indexed, make_course):
    make_course(
        "English for journalists",
        summary="Improve your English grammar and vocabulary: English grammar for the newsroom.",
        description="English grammar, English style, English grammar again.",
    )
    make_course("English grammar and style", summary="Key concepts of grammar and style.")
    assert search(client, "english grammar") == [
        "English grammar and style",
        "English for journalists",
    ]

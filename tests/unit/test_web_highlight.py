"""The web view's highlighter: passages by code-point offsets into <mark> elements, every text escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from wiretrace.web.highlight import Span, highlight


class _Marks(HTMLParser):
    """The text of a highlighted document, and each mark's text and passages, as a browser parses them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.marks: list[tuple[str, list[str], str]] = []  # text, passages, class
        self.anchors: dict[str, int] = {}
        self._open: tuple[list[str], str] | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "mark":
            assert self._open is None, "marks never nest"
            self._open = ((values["data-passages"] or "").split(), values["class"] or "")
            self.marks.append(("", *self._open))
        elif tag == "span" and values.get("id"):
            self.anchors[values["id"] or ""] = len(self.text)

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._open = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._open is not None:
            text, passages, classes = self.marks[-1]
            self.marks[-1] = (text + data, passages, classes)

    def passage(self, ref: str) -> str:
        return "".join(text for text, passages, _ in self.marks if ref in passages)


def parse(html: str) -> _Marks:
    parser = _Marks()
    parser.feed(html)
    parser.close()
    return parser


def test_marks_the_passage_text_at_its_offsets() -> None:
    text = "The wire said: constitutional order restored. Then more."
    start = text.index("constitutional")
    end = text.index(" Then")
    parsed = parse(highlight(text, [Span(start, end, "verbatim", "1")]))
    assert parsed.text == text
    assert [(t, p) for t, p, _ in parsed.marks] == [(text[start:end], ["1"])]
    assert "verbatim" in parsed.marks[0][2].split()


def test_offsets_are_code_points_not_utf16_units() -> None:
    text = "😀😀 emoji first, then 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and the passage itself."
    start = text.index("the passage")
    parsed = parse(highlight(text, [Span(start, start + len("the passage"), "variant", "1")]))
    assert parsed.passage("1") == "the passage"
    assert parsed.text == text


def test_every_text_is_escaped() -> None:
    text = '<script>window.__pwned = 1</script> & "quotes" \'single\' <b>bold</b>'
    start = text.index("&")
    html = highlight(text, [Span(start, len(text), "variant", "1")])
    assert "<script" not in html and "<b>" not in html
    parsed = parse(html)
    assert parsed.text == text
    assert set(parsed.tags) == {"mark"}
    assert parsed.passage("1") == text[start:]


def test_a_passage_that_cuts_an_entity_still_escapes_both_halves() -> None:
    text = "a<b>c"
    parsed = parse(highlight(text, [Span(1, 2, "verbatim", "1"), Span(3, 4, "verbatim", "2")]))
    assert [t for t, _, _ in parsed.marks] == ["<", ">"]
    assert parsed.text == text


def test_adjacent_passages_stay_separate_marks() -> None:
    text = "first sentence. second sentence."
    cut = text.index(" second")
    parsed = parse(highlight(text, [Span(0, cut, "verbatim", "1"), Span(cut, len(text), "variant", "2")]))
    assert [(t, p) for t, p, _ in parsed.marks] == [(text[:cut], ["1"]), (text[cut:], ["2"])]


def test_overlapping_passages_are_cut_where_they_overlap() -> None:
    text = "0123456789abcdef"
    spans = [Span(2, 10, "verbatim", "1"), Span(6, 14, "variant", "2"), Span(8, 9, "verbatim", "3")]
    parsed = parse(highlight(text, spans))
    assert parsed.text == text
    for span in spans:
        assert parsed.passage(span.ref) == text[span.start : span.end]
    pieces = [(t, p) for t, p, _ in parsed.marks]
    assert pieces == [("2345", ["1"]), ("67", ["1", "2"]), ("8", ["1", "2", "3"]), ("9", ["1", "2"]), ("abcd", ["2"])]
    overlap = next(classes for t, _, classes in parsed.marks if t == "67").split()
    assert {"overlap", "verbatim", "variant"} <= set(overlap)


def test_a_passage_inside_another() -> None:
    text = "outer [inner] outer"
    parsed = parse(highlight(text, [Span(0, len(text), "variant", "1"), Span(6, 13, "verbatim", "2")]))
    assert parsed.passage("1") == text
    assert parsed.passage("2") == "[inner]"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0, 5, "start"), (13, 16, "end"), (13, 99, "end"), (-3, 5, "start"), (0, 16, "start middle end")],
)
def test_offsets_at_the_ends_of_the_text(start: int, end: int, expected: str) -> None:
    text = "start middle end"
    parsed = parse(highlight(text, [Span(start, end, "verbatim", "1")]))
    assert parsed.text == text
    assert parsed.passage("1") == expected


def test_empty_and_outside_passages_mark_nothing() -> None:
    text = "short"
    html = highlight(text, [Span(3, 3, "verbatim", "1"), Span(10, 20, "verbatim", "2"), Span(4, 2, "variant", "3")])
    assert "<mark" not in html and html == "short"
    assert highlight("", [Span(0, 4, "verbatim", "1")]) == ""


def test_carriage_returns_survive_the_html_parser() -> None:
    text = "line one\r\nline two\rline three"
    start = text.index("one")
    end = text.index(" three")
    parsed = parse(highlight(text, [Span(start, end, "verbatim", "1")]))
    assert parsed.passage("1") == text[start:end]
    assert parsed.text == text


def test_anchors_stand_where_passages_start() -> None:
    text = "aaa bbb ccc"
    html = highlight(text, [Span(4, 7, "verbatim", "1"), Span(4, 11, "variant", "2")], anchor_prefix="m1-here-p")
    parsed = parse(html)
    assert parsed.anchors == {"m1-here-p1": 4, "m1-here-p2": 4}
    assert len(re.findall(r'id="m1-here-p\d"', html)) == 2
    assert 'id="' not in highlight(text, [Span(4, 7, "verbatim", "1")])


def test_duplicate_passages_are_one() -> None:
    text = "abc def"
    parsed = parse(highlight(text, [Span(0, 3, "verbatim", "1"), Span(0, 3, "verbatim", "1")]))
    assert [(t, p) for t, p, _ in parsed.marks] == [("abc", ["1"])]

"""Normalisation, tokenising, sentence splitting and shingling properties."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from wiretrace.core.features import (
    FeatureConfig,
    content_terms,
    document_hashes,
    document_shingles,
    extract,
    extract_word_by_word,
    shingle_hash,
    shingle_hashes,
    word_hashes,
)
from wiretrace.core.text import normalise, normalise_token, split_sentences, tokenize, words
from wiretrace.core.tokenhash import ascii_token_hashes, word_hash

from seeds import seed_drafts

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
word_lists = st.lists(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), min_size=1, max_size=40)


@given(texts)
def test_token_spans_point_into_the_text(text: str) -> None:
    for token in tokenize(text):
        assert 0 <= token.start < token.end <= len(text)
        assert normalise_token(text[token.start : token.end]) == token.text


@given(texts)
def test_words_of_sentences_are_the_words_of_the_text(text: str) -> None:
    assert [t.text for t in tokenize(text)] == words(text)
    assert [w for s in split_sentences(text) for w in words(text, s.start, s.end)] == words(text)


@given(texts)
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@given(word_lists, st.sampled_from([" ", "  ", "\n", " - ", ", ", "\t"]))
def test_case_punctuation_and_whitespace_fold(word_list: list[str], separator: str) -> None:
    plain = " ".join(word_list)
    noisy = separator.join(w.upper() for w in word_list) + "!"
    assert normalise(noisy) == normalise(plain)


def test_nfkc_and_numbers() -> None:
    assert normalise("ＡＢＣ Over 3,000 people") == "abc over 3000 people"
    assert normalise("Kazakhstan’s") == normalise("Kazakhstan's") == "kazakhstans"
    assert normalise("2.5 percent") == "2.5 percent"


@given(texts)
def test_sentences_are_ordered_trimmed_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for span in split_sentences(text):
        assert previous_end <= span.start < span.end <= len(text)
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()
        previous_end = span.end


# The sentence boundary rule as one regex (slow: its line-break alternative is tried at every
# position); split_sentences must find exactly its boundaries.
_BOUNDARY_SPEC = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’»)\]]))\s+(?=[\"'“‘«(\[]?[^\W_a-z])|\s*\n\s*")
boundary_texts = st.text(st.sampled_from(list(" \n\t\r\u2028\u00a0.!?\"'”’»)]“‘«([aAbZ1_é,")), max_size=80)


@given(st.one_of(texts, boundary_texts))
def test_sentence_boundaries_follow_the_rule(text: str) -> None:
    pieces = []
    start = 0
    for boundary in _BOUNDARY_SPEC.finditer(text):
        pieces.append((start, boundary.start()))
        start = boundary.end()
    pieces.append((start, len(text)))
    expected = []
    for start, end in pieces:
        piece = text[start:end]
        if piece.strip():
            expected.append((start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())))
    assert [(s.start, s.end) for s in split_sentences(text)] == expected


def test_sentence_split_keeps_quotes_and_lines() -> None:
    text = 'He said "It is over." Then he left.\nNew line here'
    parts = [text[s.start : s.end] for s in split_sentences(text)]
    assert parts == ['He said "It is over."', "Then he left.", "New line here"]


@given(word_lists, st.integers(min_value=1, max_value=6))
def test_vectorised_shingles_equal_reference(word_list: list[str], size: int) -> None:
    tokens = tokenize(" ".join(word_list))
    vectorised = shingle_hashes(word_hashes([t.text for t in tokens]), size)
    effective = min(size, len(tokens))
    reference = {shingle_hash([t.text for t in tokens[i : i + effective]]) for i in range(len(tokens) - effective + 1)}
    assert set(vectorised.tolist()) == reference
    assert vectorised.dtype == np.uint32


ascii_texts = st.text(alphabet=st.sampled_from("aZ09.,'’ _-\n“”\u00a0é"), max_size=80)


@given(st.one_of(texts, ascii_texts))
def test_vectorised_token_hashes_equal_word_by_word(text: str) -> None:
    fast = ascii_token_hashes(text)
    expected = [word_hash(w) for w in words(text)]
    assert fast is None or fast.tolist() == expected
    assert document_hashes(text).tolist() == expected


sentences = st.lists(
    st.text(alphabet=st.sampled_from("abcdeXYZ019 ,.'’!?\n“”-é"), min_size=1, max_size=40), max_size=12
).map(" ".join)


@given(st.one_of(texts, ascii_texts, sentences), st.integers(min_value=1, max_value=6), st.integers(0, 6))
def test_vectorised_extract_equals_word_by_word(text: str, min_features: int, short_text: int) -> None:
    config = FeatureConfig(
        shingle_size=3, min_passage_features=min_features, short_text_min_features=min(short_text, min_features)
    )
    fast, reference = extract(text, config), extract_word_by_word(text, config)
    assert np.array_equal(fast.shingles, reference.shingles)
    assert fast.token_count == reference.token_count
    for mine, theirs in ((fast.passages, reference.passages), (fast.fragments, reference.fragments)):
        assert [(p.span, p.features.tolist(), p.fingerprint) for p in mine] == [
            (p.span, p.features.tolist(), p.fingerprint) for p in theirs
        ]


@given(texts)
def test_fast_document_shingles_equal_extract(text: str) -> None:
    config = FeatureConfig()
    assert np.array_equal(document_shingles(text, config), extract(text, config).shingles)


def test_content_terms_drop_function_words_and_stem() -> None:
    terms = content_terms(words("The constitutional order has been mostly restored in all regions"))
    assert terms == ["constitut", "order", "most", "restor", "region"]


def test_short_sentences_are_not_passages() -> None:
    text = "Leave a Reply\n\nYour email address will not be published.\n"
    text += "The constitutional order has been mostly restored in all regions of the country."
    features = extract(text, FeatureConfig())
    assert [text[p.span.start : p.span.end] for p in features.passages] == [
        "The constitutional order has been mostly restored in all regions of the country."
    ]


def test_a_text_of_short_sentences_only_has_them_as_passages() -> None:
    """A headline or a one-line quote alone is found and aligned by its sentences of three or
    more content words; beside a sentence of five, short ones stay fragments."""
    config = FeatureConfig(short_text_min_features=3)
    headline = "Biker suffers leg injuries. Police say."
    assert [headline[p.span.start : p.span.end] for p in extract(headline, config).passages] == [
        "Biker suffers leg injuries."
    ]
    assert [headline[p.span.start : p.span.end] for p in extract(headline, config).fragments] == ["Police say."]
    story = headline + " The constitutional order has been mostly restored in all regions of the country."
    assert len(extract(story, config).passages) == 1
    assert not extract(headline, FeatureConfig()).passages


def test_concurrent_analysis_gives_the_same_features() -> None:
    """Parallel ingest streams analyse on several threads at once (a shared stemmer once broke this)."""
    import threading

    from wiretrace.core import features as module

    texts = [d.text for d in seed_drafts()] * 24
    config = FeatureConfig()
    module._STEM_CACHE.clear()
    module._TERMS.clear()
    results: dict[int, list[list[int]]] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            results[index] = [p.features.tolist() for p in extract(texts[index], config).passages]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for index, text in enumerate(texts):
        assert results[index] == [p.features.tolist() for p in extract_word_by_word(text, config).passages]

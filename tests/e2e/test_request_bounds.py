"""Work per request is bounded whatever the text (issue 12 item 1).

One pair of hostile articles used to exhaust the server's memory: a sentence repeated
~14,000 times on both sides made the candidate screen and the verification compare every
sentence with every other, word by word (8 s and 1.3 GB at 100,000 characters, OOM-killed at
1,000,000). Repeated sentences are now compared once, and pair work stops at
``IndexSettings.max_pair_work`` (thousands of different sentences that all share common words).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from processes import ServerProcess
from wiretrace.core.analysis import analyse_text
from wiretrace.core.features import DistinctSets, decode_sentence_sets, distinct_sets, extract
from wiretrace.core.matching import _prefix_pairs, _set_pairs, align_passages, screen, verify
from wiretrace.core.model import MatchKind, PassageKind
from wiretrace.core.settings import IndexSettings
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from seeds import seed_drafts

SENTENCE = "The minister said police officers were deployed in the capital today. "
# The server's default --max-text-chars (WIRETRACE_TEST_HOSTILE_CHARS sends smaller texts).
MAX_CHARS = IndexSettings().max_text_chars
HOSTILE_CHARS = int(os.environ.get("WIRETRACE_TEST_HOSTILE_CHARS", str(MAX_CHARS)))
DEADLINE_S = 60.0
RSS_LIMIT_BYTES = 1_500_000_000


def _fill(pieces: Iterator[str], limit: int) -> str:
    """As many pieces as fit in ``limit`` characters."""
    out: list[str] = []
    size = 0
    for piece in pieces:
        if size + len(piece) > limit:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def repeated_pair(limit: int = HOSTILE_CHARS) -> tuple[str, str]:
    """The issue's pair: one sentence repeated to the size limit, and the same behind a headline."""
    first = _fill(itertools.repeat(SENTENCE), limit - len("Breaking. "))
    return first, "Breaking. " + first


def distinct_pair(limit: int = HOSTILE_CHARS, offset: int = 0) -> tuple[str, str]:
    """Thousands of different sentences, each the same 5 content words and a counter: every
    sentence pair aligns (Jaccard 5/7), so no collapsing of equal sentences helps. The second
    text's counters start at ``offset``."""
    first = _fill((f"Minister police officers deployed capital {i}. " for i in itertools.count()), limit)
    rest = limit - len("Breaking. ")
    second = _fill((f"Minister police officers deployed capital {i + offset}. " for i in itertools.count()), rest)
    return first, "Breaking. " + second


# -- the server process ----------------------------------------------------------------------------


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the analysis workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command may hold spaces and parentheses: the parent pid follows the last ')'.
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(parents.get(current, []))
    return tree


def _status_bytes(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss(pid: int) -> int:
    """Peak resident memory of the server and its children, summed (an upper bound of their joint peak)."""
    return sum(_status_bytes(p, "VmHWM") for p in _process_tree(pid))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("bounds") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def stub(server: ServerProcess) -> Iterator[pb_grpc.WiretraceServiceStub]:
    with grpc.insecure_channel(
        server.address,
        options=[("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)],
    ) as channel:
        yield pb_grpc.WiretraceServiceStub(channel)


def _timed(call: Callable[..., Any], request: object) -> tuple[Any, float]:
    start = time.monotonic()
    response = call(request, timeout=DEADLINE_S)
    elapsed = time.monotonic() - start
    assert elapsed < DEADLINE_S
    return response, elapsed


def _hostile_round(
    server: ServerProcess, stub: pb_grpc.WiretraceServiceStub, name: str, first: str, second: str
) -> list[pb.Match]:
    """Both articles created, then matches of the second as stored and as raw text: each call in
    time, and the server and its workers in memory."""
    assert max(len(first), len(second)) <= MAX_CHARS
    timings = {}
    for article_id, text in ((f"{name}-first", first), (f"{name}-second", second)):
        request = pb.CreateArticleRequest(article_id=article_id, article=pb.Article(text=text))
        _, timings[f"create {article_id}"] = _timed(stub.CreateArticle, request)
    stored, timings["find stored"] = _timed(stub.FindMatches, pb.FindMatchesRequest(article=f"articles/{name}-second"))
    raw, timings["find text"] = _timed(stub.FindMatches, pb.FindMatchesRequest(text=second))
    rss = peak_rss(server.process.pid)
    print(
        f"{name}: {len(second)} chars, peak RSS {rss / 1e9:.2f} GB,",
        ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
    )
    assert rss < RSS_LIMIT_BYTES, f"server and workers peaked at {rss / 1e9:.2f} GB"
    # As raw text it also matches itself as stored.
    assert [m.article for m in stored.matches] == [
        m.article for m in raw.matches if m.article != f"articles/{name}-second"
    ]
    return list(stored.matches)


@pytest.mark.e2e
def test_one_sentence_repeated_to_the_size_limit_is_bounded(
    server: ServerProcess, stub: pb_grpc.WiretraceServiceStub
) -> None:
    first, second = repeated_pair()
    matches = _hostile_round(server, stub, "repeated", first, second)
    (match,) = [m for m in matches if m.article == "articles/repeated-first"]
    # Still the right answer: the same text, one passage covering every repetition.
    assert match.kind == pb.MATCH_KIND_NEAR_DUPLICATE and match.score == 1.0
    (passage,) = match.passages
    assert (passage.matched_start, passage.matched_end) == (0, len(first.rstrip()))
    assert passage.query_start == len("Breaking. ")


@pytest.mark.e2e
def test_thousands_of_different_sentences_sharing_words_are_bounded(
    server: ServerProcess, stub: pb_grpc.WiretraceServiceStub
) -> None:
    first, second = distinct_pair()
    matches = _hostile_round(server, stub, "distinct", first, second)
    (match,) = [m for m in matches if m.article == "articles/distinct-first"]
    assert match.kind == pb.MATCH_KIND_NEAR_DUPLICATE  # sentence i of one is sentence i of the other
    # No sentence in common, but all pairs align on the 5 shared words: beyond the work limit.
    first, second = distinct_pair(offset=10**6)
    _hostile_round(server, stub, "disjoint", first, second)


@pytest.mark.e2e
def test_the_server_still_answers_normally_afterwards(
    server: ServerProcess, stub: pb_grpc.WiretraceServiceStub
) -> None:
    drafts = {d.article_id: d for d in seed_drafts()}
    for article_id in ("000", "001"):
        stub.CreateArticle(
            pb.CreateArticleRequest(article_id=f"seed-{article_id}", article=pb.Article(text=drafts[article_id].text)),
            timeout=DEADLINE_S,
        )
    matches = stub.FindMatches(pb.FindMatchesRequest(article="articles/seed-001"), timeout=DEADLINE_S).matches
    assert "articles/seed-000" in [m.article for m in matches]
    assert stub.GetArticle(pb.GetArticleRequest(name="articles/seed-000"), timeout=DEADLINE_S).article.text
    assert server.process.poll() is None


# -- in process ------------------------------------------------------------------------------------

set_lists = st.lists(st.sets(st.integers(0, 24), min_size=1, max_size=12).map(sorted), min_size=1, max_size=25)


def _sets_of(sets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    features = np.array([f for s in sets for f in s], dtype=np.uint32)
    owners = np.repeat(np.arange(len(sets), dtype=np.int32), [len(s) for s in sets])
    return features, owners


@given(set_lists, st.randoms(use_true_random=False))
def test_distinct_sets_collapse_exactly_equal_sets(sets: list[list[int]], rng: random.Random) -> None:
    sets = sets + [sets[0]] * 3
    features, owners = _sets_of(sets)
    order = np.array(rng.sample(range(features.size), features.size), dtype=np.int64)
    distinct = distinct_sets(features[order], owners[order], len(sets))
    unique = list(dict.fromkeys(tuple(s) for s in sets))
    assert distinct.count == len(unique)
    for index, sentence in enumerate(sets):
        d = int(distinct.of[index])
        assert distinct.features[distinct.bounds[d] : distinct.bounds[d + 1]].tolist() == sentence
        assert tuple(sets[int(distinct.first[d])]) == tuple(sentence)
    assert distinct.first.tolist() == sorted(distinct.first.tolist())


@settings(max_examples=200)
@given(set_lists, set_lists, st.sampled_from([(0.5, 4), (0.5, 1), (0.3, 2), (0.0, 1), (0.8, 3)]))
def test_prefix_filtering_finds_every_qualifying_pair_with_its_exact_overlap(
    query_sets: list[list[int]], other_sets: list[list[int]], thresholds: tuple[float, int]
) -> None:
    min_similarity, min_shared = thresholds
    query = distinct_sets(*_sets_of(query_sets), len(query_sets))
    other = distinct_sets(*_sets_of(other_sets), len(other_sets))

    def sets_of(side: DistinctSets, index: int) -> set[int]:
        return set(side.features[side.bounds[index] : side.bounds[index + 1]].tolist())

    expected = {}
    for i in range(query.count):
        for j in range(other.count):
            a, b = sets_of(query, i), sets_of(other, j)
            shared = len(a & b)
            if shared >= min_shared and shared / len(a | b) >= min_similarity:
                expected[(i, j)] = shared
    for pairs in (
        _prefix_pairs(query, other, min_similarity, min_shared, 10**9),
        _set_pairs(query, other, min_similarity, min_shared, 10**9),
    ):
        found = {(int(i), int(j)): int(s) for i, j, s in zip(pairs.query, pairs.other, pairs.shared, strict=True)}
        assert pairs.unexamined.size == 0
        for (i, j), shared in found.items():
            assert shared == len(sets_of(query, i) & sets_of(other, j))
        assert {k: v for k, v in found.items() if k in expected} == expected


@given(set_lists, set_lists, st.integers(1, 60))
def test_under_a_small_work_limit_the_screen_keeps_every_candidate_it_could_not_rule_out(
    query_sets: list[list[int]], other_sets: list[list[int]], limit: int
) -> None:
    query = distinct_sets(*_sets_of(query_sets), len(query_sets))
    other = distinct_sets(*_sets_of(other_sets), len(other_sets))
    full = _prefix_pairs(query, other, 0.5, 2, 10**9)
    union = query.sizes[full.query] + other.sizes[full.other] - full.shared
    qualifying = set(full.other[(full.shared >= 2) & (full.shared >= 0.5 * union)].tolist())
    limited = _prefix_pairs(query, other, 0.5, 2, limit)
    # A qualifying pair is either examined (with its exact overlap), or its other side is unexamined.
    assert qualifying <= set(limited.other.tolist()) | set(limited.unexamined.tolist())
    exact = dict(zip(zip(full.query.tolist(), full.other.tolist(), strict=True), full.shared.tolist(), strict=True))
    for i, j, shared in zip(limited.query.tolist(), limited.other.tolist(), limited.shared.tolist(), strict=True):
        assert exact.get((i, j), shared) == shared


def test_repeated_sentences_align_in_order_and_merge_into_one_passage() -> None:
    index = IndexSettings()
    text = SENTENCE * 300
    first, second = analyse_text(text, index), analyse_text("Breaking. " + text, index)
    assert second.features.distinct().count == 1 and len(second.features.passages) == 300
    passages, _, aligned = align_passages(second.features, first.features, index)
    assert aligned == 300
    assert [(p.query_start, p.query_end, p.matched_start, p.matched_end) for p in passages] == [
        (len("Breaking. "), len(text) + len("Breaking. ") - 1, 0, len(text) - 1)
    ]
    assert passages[0].kind is PassageKind.VERBATIM
    # Fewer repetitions on one side: each of those aligns once, with the first of the other's.
    shorter = analyse_text(SENTENCE * 10, index)
    passages, _, aligned = align_passages(shorter.features, first.features, index)
    assert aligned == 10 and len(passages) == 1
    assert (passages[0].matched_start, passages[0].matched_end) == (0, 10 * len(SENTENCE) - 1)
    # Boilerplate occurrences are left out, as before.
    boilerplate = {first.features.passages[0].fingerprint}
    assert align_passages(second.features, first.features, index, boilerplate) == ([], 0, 0)


def test_repeated_sentences_between_others_keep_their_positions() -> None:
    index = IndexSettings()
    other = seed_drafts()[0].text
    query = analyse_text(f"{SENTENCE}\n{other}\n{SENTENCE}{SENTENCE}", index)
    matched_text = f"{other}\n{SENTENCE}"
    matched = analyse_text(matched_text, index)
    passages, _, aligned = align_passages(query.features, matched.features, index)
    # Everything of the matched text aligns; its one repetition with the query's first.
    assert aligned == len(matched.features.passages)
    (repeated,) = [p for p in passages if p.query_start == 0]
    assert (repeated.matched_start, repeated.query_end) == (matched_text.rindex(SENTENCE), len(SENTENCE) - 1)
    assert repeated.kind is PassageKind.VERBATIM


@pytest.mark.parametrize("limit", [1_000, 50_000])
def test_a_small_work_limit_bounds_verification_and_the_screen(limit: int) -> None:
    index = IndexSettings(max_pair_work=limit)
    first, second = distinct_pair(60_000, offset=10**6)
    a, b = analyse_text(first, index), analyse_text(second, index)
    start = time.monotonic()
    assert screen(b.features, [decode_sentence_sets(a.stored_features)], index).by_words.tolist() == [True]
    match = verify("a", b.features, b.document_signature, a.features, a.document_signature, index)
    assert time.monotonic() - start < 5
    # Pairs that share only the common words are cut off at the limit; what is found is real.
    assert match is None or match.kind is MatchKind.REUSED_PASSAGE


def test_semantic_cosines_are_bounded_by_the_work_limit() -> None:
    """Meaning-only pairs are looked for in a cosine block of at most ``max_pair_work`` cells."""
    rng = np.random.default_rng(5)
    words = [f"w{i}x" for i in range(400)]
    count = 20
    # Different words on each side (nothing aligns lexically), one meaning per sentence pair.
    query_text = " ".join(" ".join(words[6 * i : 6 * i + 6]).capitalize() + "." for i in range(count))
    other_text = " ".join(" ".join(words[200 + 6 * i : 206 + 6 * i]).capitalize() + "." for i in range(count))
    vectors = rng.normal(size=(count, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    unlimited, limited = (IndexSettings(semantic=True, max_pair_work=limit) for limit in (10**9, 2 * count))
    query = dataclasses.replace(extract(query_text, unlimited.features), embeddings=vectors)
    other = dataclasses.replace(extract(other_text, unlimited.features), embeddings=vectors)
    assert len(query.passages) == len(other.passages) == count
    assert align_passages(query, other, unlimited)[2] == count
    # Two query sentences get cosines: too few meaning-only pairs to cover the shorter text.
    assert align_passages(query, other, limited)[2] == 0
    # Repeated sentences are one set there too (same words and wording), so they cost nothing more.
    repeated = dataclasses.replace(
        extract(query_text + " " + query_text, unlimited.features), embeddings=np.vstack([vectors, vectors])
    )
    assert repeated.distinct().count == count
    assert align_passages(repeated, other, unlimited)[2] == count

"""Real news sentences as the service sees them, read from ../shared (never copied into the repository).

- :func:`news_passages`: every passage (sentence with >= 5 content words) of the Reuters-21578 and
  BBC articles of ../shared/news, as the service's own feature extraction
  (:func:`wiretrace.core.features.extract` with the default :class:`IndexSettings`) makes them:
  stem-hash sets, flattened (features + owner sentence), plus the number tokens seen (for
  frequency look-ups that need the string).
- :func:`wmt_line_passages`: the lines of a WMT21 file, each line one sentence (one span), with
  the same content-word sets (:func:`extract_word_by_word` on the whole line, which ``extract``
  equals sentence by sentence); lines with too few content words are not passages (None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from wiretrace.core import features as F
from wiretrace.core.features import FeatureConfig
from wiretrace.core.text import Span, words

SHARED = Path(__file__).resolve().parents[2] / "shared"
NEWS = SHARED / "news"
WMT = SHARED / "eval" / "wmt21"
NEWS_FILES = ("reuters21578.jsonl", "bbc.jsonl")


@dataclass(frozen=True, slots=True)
class Passages:
    """Sentence content-word sets, flattened: sentence ``owners[i]`` holds ``features[i]``."""

    features: npt.NDArray[np.uint32]
    owners: npt.NDArray[np.int64]
    count: int
    # Number tokens (normalised) met in the texts, for frequency look-ups by string.
    numbers: frozenset[str]
    # Article of each sentence (index into the files' records, in file order).
    articles: npt.NDArray[np.int64]


def _numbers(text: str) -> set[str]:
    return {w for w in words(text) if w[:1].isdigit()}


def news_passages(config: FeatureConfig, files: tuple[str, ...] = NEWS_FILES) -> Passages:
    """All passages of the news files, in file order."""
    chunks: list[npt.NDArray[np.uint32]] = []
    owner_chunks: list[npt.NDArray[np.int64]] = []
    article_of: list[int] = []
    numbers: set[str] = set()
    count = 0
    article = 0
    for name in files:
        path = NEWS / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the benchmark reads real text from ../shared (see its README)")
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                text = json.loads(line)["text"]
                extracted = F.extract(text, config)
                for passage in extracted.passages:
                    chunks.append(passage.features)
                    owner_chunks.append(np.full(passage.features.size, count, dtype=np.int64))
                    article_of.append(article)
                    count += 1
                numbers |= _numbers(text)
                article += 1
    return Passages(
        np.concatenate(chunks).astype(np.uint32),
        np.concatenate(owner_chunks),
        count,
        frozenset(numbers),
        np.array(article_of, dtype=np.int64),
    )


def news_texts(files: tuple[str, ...] = NEWS_FILES) -> list[str]:
    """The news articles' texts, in file order."""
    texts: list[str] = []
    for name in files:
        with (NEWS / name).open(encoding="utf-8") as lines:
            texts.extend(json.loads(line)["text"] for line in lines)
    return texts


def wmt_reference_paths(pair: str) -> list[Path]:
    """The human references of a WMT21 pair (ref.A, ref.B, ...), sorted."""
    found = sorted((WMT / "references").glob(f"newstest2021.{pair}.ref.*.en"))
    if not found:
        raise FileNotFoundError(f"no references for {pair} under {WMT}/references")
    return found


def wmt_line_passages(path: Path, config: FeatureConfig) -> tuple[list[npt.NDArray[np.uint32] | None], set[str]]:
    """Each line's content-word set as one sentence (None below ``min_passage_features``), and its numbers."""
    sets: list[npt.NDArray[np.uint32] | None] = []
    numbers: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        extracted = F.extract_word_by_word(line, config, [Span(0, len(line))])
        sets.append(extracted.passages[0].features if extracted.passages else None)
        numbers |= _numbers(line)
    return sets, numbers

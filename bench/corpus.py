"""A deterministic news-like corpus for benchmarks: realistic length and vocabulary, with known reuse.

Words are drawn from the English side of the WMT21 evaluation data (../shared/eval) with their real
frequencies when it is there, else from a built-in list; sentences are 8-35 words. A share of the
articles are near-duplicates of earlier ones (a few words changed) and a share quote a paragraph of
an earlier one, so matching does real work.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "wmt21" / "references"
FALLBACK = (
    "the government said on friday that police officers were deployed after protests in the capital "
    "president minister reported people killed injured according to officials city region country "
    "troops security forces agency statement television news market prices fuel economy election"
).split()


@dataclass(frozen=True, slots=True)
class Doc:
    article_id: str
    text: str
    copy_of: str | None = None
    quotes: str | None = None


def vocabulary() -> tuple[list[str], list[int]]:
    counts: Counter[str] = Counter()
    for path in sorted(EVAL.glob("*.en")) if EVAL.is_dir() else []:
        counts.update(re.findall(r"[A-Za-z][a-z']+|\d+", path.read_text(encoding="utf-8")))
    if len(counts) < 1000:
        counts = Counter({w: 10 for w in FALLBACK})
    words, weights = zip(*counts.most_common(30_000), strict=True)
    return list(words), list(weights)


def generate(count: int, *, words_per_doc: int = 620, seed: int = 7, reuse: float = 0.1) -> Iterator[Doc]:
    rng = random.Random(seed)
    words, weights = vocabulary()
    recent: list[Doc] = []

    def sentence() -> str:
        chosen = rng.choices(words, weights, k=rng.randint(8, 35))
        return chosen[0].capitalize() + " " + " ".join(chosen[1:]) + "."

    def paragraphs(total: int) -> list[str]:
        out: list[str] = []
        written = 0
        while written < total:
            para = " ".join(sentence() for _ in range(rng.randint(2, 5)))
            written += para.count(" ") + 1
            out.append(para)
        return out

    for number in range(count):
        article_id = f"bench-{number}"
        roll = rng.random()
        if recent and roll < reuse / 2:
            original = rng.choice(recent)
            tokens = original.text.split(" ")
            for _ in range(5):
                tokens[rng.randrange(len(tokens))] = rng.choice(words)
            doc = Doc(article_id, " ".join(tokens), copy_of=original.article_id)
        elif recent and roll < reuse:
            original = rng.choice(recent)
            quoted = rng.choice(original.text.split("\n\n"))
            body = paragraphs(words_per_doc - quoted.count(" "))
            body.insert(rng.randrange(len(body) + 1), quoted)
            doc = Doc(article_id, "\n\n".join(body), quotes=original.article_id)
        else:
            doc = Doc(article_id, "\n\n".join(paragraphs(words_per_doc)))
        recent.append(doc)
        if len(recent) > 500:
            recent.pop(0)
        yield doc

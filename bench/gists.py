"""How well the sentence encoder finds a text's translation, on WMT21 sources and their English reference.

    python bench/gists.py [ja-en is-en de-en cs-en]

For each language pair (``../shared/eval/wmt21``): line level, the share of source lines whose
English reference line is the nearest of all reference lines; article level (pairs with docids),
the same for gists (mean embedding of an article's first k lines, k = 1 ... 6), with the cosine of
true pairs (10th percentile, median) against the nearest other article's (median, 90th
percentile). This is what chose wiretrace.core.gist's 3 sentences and the languages of
wiretrace.core.semantic.ENCODER_LANGUAGES.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service")]

from wiretrace.core.semantic import default_encoder  # noqa: E402

WMT = ROOT.parent / "shared" / "eval" / "wmt21"


def nearest_is_true(cosine: np.ndarray) -> float:
    return float((cosine.argmax(axis=1) == np.arange(len(cosine))).mean())


def main() -> int:
    encoder = default_encoder()
    for pair in sys.argv[1:] or ["ja-en", "is-en", "de-en", "cs-en"]:
        source = (WMT / "sources" / f"newstest2021.{pair}.src.{pair[:2]}").read_text(encoding="utf-8").splitlines()
        reference = (WMT / "references" / f"newstest2021.{pair}.ref.A.en").read_text(encoding="utf-8").splitlines()
        started = time.perf_counter()
        sources, references = encoder.encode(source), encoder.encode(reference)
        rate = (len(source) + len(reference)) / (time.perf_counter() - started)
        print(f"{pair}: lines {len(source)}, nearest line is the reference's: "
              f"{nearest_is_true(sources @ references.T):.3f} ({rate:.0f} sentences/s)")
        docids_file = WMT / "docids" / f"newstest2021.{pair}.docids"
        if not docids_file.is_file():
            continue
        lines_of: defaultdict[str, list[int]] = defaultdict(list)
        for line, docid in enumerate(docids_file.read_text(encoding="utf-8").splitlines()):
            lines_of[docid.split("\t")[0]].append(line)
        docs = sorted(lines_of)
        for k in (1, 2, 3, 4, 6):
            gists = []
            for vectors in (sources, references):
                mean = np.array([vectors[lines_of[d][:k]].mean(axis=0) for d in docs])
                gists.append(mean / np.linalg.norm(mean, axis=1, keepdims=True))
            cosine = gists[0] @ gists[1].T
            true = np.diag(cosine).copy()
            np.fill_diagonal(cosine, -1.0)
            other = cosine.max(axis=1)
            np.fill_diagonal(cosine, true)
            print(f"  articles {len(docs)}, gist of {k}: nearest is the reference's {nearest_is_true(cosine):.3f}; "
                  f"cosine true p10 {np.percentile(true, 10):.2f} median {np.median(true):.2f}, "
                  f"nearest other median {np.median(other):.2f} p90 {np.percentile(other, 90):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

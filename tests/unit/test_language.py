"""Language detection: what decides which stored articles are another language's."""

from __future__ import annotations

import pytest
from wiretrace.core.language import detect_language

from seeds import seed_drafts


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Constitutional order has largely been restored in all regions of the country.", "en"),
        ("Die verfassungsmäßige Ordnung ist in allen Regionen des Landes weitgehend wiederhergestellt.", "de"),
        ("Конституционный порядок в основном восстановлен во всех регионах страны.", "ru"),
        ("憲法秩序は国内のすべての地域でほぼ回復された。", "ja"),
    ],
)
def test_the_language_of_a_sentence(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12,500 3.4 % 2026-12-01",
        "NY COMEX GOLD CLSG 7-APR\nOPEN HIGH LOW CLOSE\nAPR7 4205 4225 4185 4220L 4225H\nMAY7 4222B 4227A",
    ],
)
def test_text_without_a_language_is_left_unknown(text: str) -> None:
    """No letters, or a table of figures: never taken for some small language's text."""
    assert detect_language(text) == ""


def test_the_seeds_are_english() -> None:
    assert {detect_language(d.text) for d in seed_drafts()} == {"en"}

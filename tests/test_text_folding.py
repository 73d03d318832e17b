"""Folding and highlighting: the fast paths give what the general rule gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from knowledge.text import fold, highlight


def folded_the_long_way(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@given(st.text())
def test_fold_is_casefold_without_accents_for_any_text(text: str) -> None:
    assert fold(text) == folded_the_long_way(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_fold_of_ascii_text(text: str) -> None:
    assert fold(text) == folded_the_long_way(text)


def test_highlight_marks_long_stems_as_prefixes_and_short_words_whole() -> None:
    text = "Configure the configuration; con is not cons, but Café is"
    marked = highlight(text, ["configures", "con", "cafe"], "[", "]", 200)
    assert marked == "[Configure] the [configuration]; [con] is not cons, but [Café] is"

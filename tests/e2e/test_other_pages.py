"""Issue 17, "Other pages", in headless Chromium over a copy of the bundled store: Words says what it did not find
and shows the evidence behind a kick; Decomposition's labels are whole words. (Every page is photographed at a desktop,
a projector and a phone size by tests/e2e/test_classroom.py.)"""
from __future__ import annotations

import pytest

from core.words import readout_contrast
from tests.e2e.test_pages import MODELS, bundle, open_page

pytestmark = pytest.mark.e2e

REVIEWS = "gru-reviews" if "gru-reviews" in MODELS else (MODELS[0] if MODELS else None)


def test_words_names_a_search_term_outside_the_vocabulary_and_explains_kicks(real_page, real_store):
    b = bundle(real_store, REVIEWS)
    words = [b.vocab.itos[int(i)] for i in b.analysis.words.ids_w]
    known = "bad" if "bad" in words else next(w for w in words if w.isalpha())
    open_page(real_page, "words", {"model": REVIEWS})
    real_page.fill("#words-search", f"{known}, zzqxjw")
    real_page.wait_for_selector(".words-missing")
    assert "Not in this model's vocabulary: “zzqxjw”" in real_page.inner_text(".words-missing")
    real_page.wait_for_selector(".words-evidence")
    row = real_page.locator(".words-evidence tr", has_text=known).first.inner_text().split("\t")
    deflection, log_odds = readout_contrast(b.analysis.words.readout_proj_wxk, b.analysis.words.log_odds_wxk)
    i = words.index(known)
    if deflection.shape[1] == 1:  # two classes: the kick toward the second class next to its log-odds
        assert row[1].strip() == f"{deflection[i, 0]:+.2f}" and row[2].strip() == f"{log_odds[i, 0]:+.2f}"
        against = abs(log_odds[i, 0]) >= 0.3 and deflection[i, 0] * log_odds[i, 0] < 0
        assert ("against the data" in row[3]) == against
    assert "counts and context" in real_page.inner_text("#words-body")
    assert "kick against their log-odds" in real_page.inner_text(".words-surprising")


def test_decomposition_labels_are_whole_words(real_page, real_store):
    open_page(real_page, "decomposition", {"model": REVIEWS})
    note = real_page.inner_text("#decomposition-body .card:nth-child(2) .note")
    listed = [w.rsplit(" (", 1)[0] for w in note.split("Words: ", 1)[1].split(" Drag")[0].rstrip(".").split(", ")]
    shown = real_page.eval_on_selector("#decomposition-body .card:nth-child(2) .js-plotly-plot",
                                       "g => g.layout.scene.annotations.map(a => a.text)")
    assert sorted(shown) == sorted(listed)
    # drawn over the canvas, whole: each label's SVG text is the word itself
    drawn = real_page.eval_on_selector_all("#decomposition-body .card:nth-child(2) .annotation-text",
                                           "els => els.map(e => e.textContent.trim())")
    assert sorted(d for d in drawn if d in listed) == sorted(listed)



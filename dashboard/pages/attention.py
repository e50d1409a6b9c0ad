"""Attention (/attention): how an encoder-decoder forms its attention, by time or by content (Aitken et al. 2021).

Pick a sequence model, type a source (or pick an example): the decoded output, the attention matrix beside
the attention each of the four score terms would give alone, the states with mu_t as a curve and chi(w) as
arrows, and every sequence model's variance fractions and per-term alignment accuracies in one table.
"""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from core.seq2seq.bundle import TERM_NAMES
from core.tasks.seq2seq import target_for
from dashboard import figures_attention as fat, ids
from dashboard.cache import ModelUnavailable
from dashboard.components.page_shell import metric, not_computed, section, unavailable, unknown_model_message
from dashboard.components.page_shell import url_sync
from dashboard.runtime import bundles, settings
from dashboard.seq_bundles import get_seq, seq_summaries

dash.register_page(__name__, path="/attention", name="Attention", title="attractorscope · Attention", order=6)

PATH = "/attention"
TASK_LABELS = {"seq-translate": "translation (one-to-one)", "seq-reverse": "reversal", "seq-sort": "sorting",
               "seq-scan": "SCAN-like commands"}
ENCODER_LABELS = {"gru": "GRU encoder", "ff": "feed-forward encoder"}
INTRO = ("An encoder-decoder with attention reads a source sequence into encoder states e_s and writes the output "
         "one token at a time; at each output step u its decoder state d_u scores every source position, "
         "s_us = d_u · e_s, and the softmax of the scores is the attention. Aitken et al. (2021) split each state "
         "into a temporal part μ (the mean state at that step, whatever the words) and an input-driven part χ(w) "
         "(the mean offset for the word read there), plus a residual; the score then splits into μ·μ + μ·χ + χ·μ "
         "+ χ·χ. Tasks that align by position (translation, reversal) lean on μ·μ; tasks that align by content "
         "(sorting) on χ·χ. Decoder states count the word the decoder reads: <bos>, then its previous output.")
EMPTY_STORE = ("There are no sequence-to-sequence models in the store yet. Build the bundled ones with "
               "`python -m core bundle-all`, or train one with `python -m core train --task seq-reverse --run-id my-rev`.")


def _options(rows) -> list[dict]:
    return [{"label": f"{TASK_LABELS.get(s.task, s.task)} — {s.run_id} ({ENCODER_LABELS.get(s.cell, s.cell)}-{s.units})",
             "value": s.run_id, "disabled": not (s.ok and s.has_analysis)} for s in rows]


def _resolve(model, rows) -> tuple[str | None, str]:
    """The model to show and a notice when the URL asked for one that is not a sequence model here."""
    usable = [s.run_id for s in rows if s.ok and s.has_analysis]
    if isinstance(model, str) and any(s.run_id == model for s in rows):
        return model, ""
    shown = usable[0] if usable else None
    classifier = isinstance(model, str) and any(s.run_id == model for s in bundles().summaries())
    return shown, "" if classifier else unknown_model_message(model, shown)  # a classifier from the navbar: no notice


def layout(model=None, text=None, **_query):
    rows = seq_summaries(bundles().summaries())
    run_id, notice = _resolve(model, rows)
    examples = _examples(run_id)
    text = (text if isinstance(text, str) else (examples[1] if len(examples) > 1 else "".join(examples[:1])))
    text = text[: settings().max_text_chars]
    controls = html.Div(className="controls", children=[
        html.Div(className="picker-wrap", children=[
            html.Label("Sequence model", htmlFor=ids.ATTENTION_MODEL, className="field-label"),
            dcc.Dropdown(id=ids.ATTENTION_MODEL, options=_options(rows), value=run_id, clearable=False,
                         searchable=False, placeholder="Choose a sequence model", className="model-picker")]),
        html.Div(className="text-wrap", children=[
            html.Label("Source sequence", htmlFor=ids.ATTENTION_TEXT, className="field-label"),
            dcc.Input(id=ids.ATTENTION_TEXT, value=text, type="text", debounce=0.3, className="page-text",
                      maxLength=settings().max_text_chars, placeholder="Type a source sequence")]),
        html.Div(className="picker-wrap", children=[
            html.Label("Example", htmlFor=ids.ATTENTION_EXAMPLE, className="field-label"),
            dcc.Dropdown(id=ids.ATTENTION_EXAMPLE, options=examples, value=None, placeholder="Pick an example",
                         clearable=True, searchable=False)]),
        dcc.RadioItems(id=ids.ATTENTION_VIEW, options=["2D", "3D"], value="2D", inline=True),
    ])
    return html.Div(className="analysis-page", children=[
        html.Div(className="page-head", children=[html.H2("Attention: by time or by content?"),
                                                  html.P(INTRO, className="intro")]),
        controls,
        *([html.Div(notice, className="model-message")] if notice else []),
        html.Span(id=ids.url_sync(PATH), hidden=True),
        html.Div(_body(run_id, text, "2D", rows), id=ids.page_body(PATH), className="page-body"),
    ])


url_sync(PATH, Input(ids.ATTENTION_TEXT, "value"), model_input=Input(ids.ATTENTION_MODEL, "value"))


def _examples(run_id) -> list[str]:
    try:
        return get_seq(run_id).examples if run_id else []
    except ModelUnavailable:
        return []


@callback(Output(ids.ATTENTION_TEXT, "value"), Output(ids.ATTENTION_EXAMPLE, "options"),
          Input(ids.ATTENTION_EXAMPLE, "value"), Input(ids.ATTENTION_MODEL, "value"), prevent_initial_call=True)
def pick_example(example, run_id):
    return example_update(dash.ctx.triggered_id, example, run_id)


def example_update(trigger, example, run_id):
    """An example fills the text box; a new model offers its own examples (and starts from one)."""
    examples = _examples(run_id)
    if trigger == ids.ATTENTION_MODEL:
        return (examples[1] if len(examples) > 1 else dash.no_update), examples
    return (example if isinstance(example, str) and example in examples else dash.no_update), dash.no_update


@callback(Output(ids.page_body(PATH), "children"), Input(ids.ATTENTION_MODEL, "value"),
          Input(ids.ATTENTION_TEXT, "value"), Input(ids.ATTENTION_VIEW, "value"), prevent_initial_call=True)
def show(run_id, text, view):
    return _body(run_id, text, view, seq_summaries(bundles().summaries()))


def _body(run_id, text, view, rows):
    if not rows:
        return unavailable(EMPTY_STORE)
    if run_id is None:
        return not_computed("The attention decomposition", None)
    try:
        bundle = get_seq(run_id)
    except ModelUnavailable as err:
        return unavailable(str(err))
    if not isinstance(text, str) or not text.strip():
        return [unavailable("Type a source sequence above (or pick an example) to see how the model attends."),
                _table(rows, run_id)]
    result = bundle.translate(text[: settings().max_text_chars])
    if not result.tokens:
        return [unavailable("This text has no words the tokenizer recognises."), _table(rows, run_id)]
    return attention_sections(bundle, result, 3 if view == "3D" else 2) + [_table(rows, run_id)]


def _stored_parts(a, result) -> tuple[np.ndarray, ...]:
    """mu and mu + chi(w) at every encoder and decoder step of this result, from the stored decomposition."""
    s_idx = np.minimum(np.arange(len(result.src_ids)), len(a.enc_mu_sxn) - 1)
    u_idx = np.minimum(np.arange(len(result.dec_in_ids)), len(a.dec_mu_uxn) - 1)
    enc_mu, dec_mu = a.enc_mu_sxn[s_idx], a.dec_mu_uxn[u_idx]
    return enc_mu, dec_mu, enc_mu + a.enc_chi_wxn[result.src_ids], dec_mu + a.dec_chi_wxn[result.dec_in_ids]


def _correct(bundle, result) -> str:
    try:
        want = target_for(bundle.config.task.name, result.tokens)
    except (ValueError, KeyError):
        return "This source is not a valid input for the task, so there is no correct output to compare with."
    return "Correct." if want == result.output else f"Wrong: the task's rule gives {' '.join(want) or '(nothing)'}."


def _text_alignment(terms, result) -> list[str]:
    """Per term, in how many output steps of this text its argmax is the real attention's."""
    real = result.scores_uxs.argmax(1)
    return [f"{int(np.sum(terms[n].argmax(1) == real))}/{len(real)}" for n in TERM_NAMES]


def attention_sections(bundle, result, dims: int) -> list:
    """The page body for a SeqBundle and one SeqResult (core.seq2seq.bundle)."""
    a = bundle.analysis
    terms = a.terms_for(result)
    src = [t if k else f"{t}?" for t, k in zip(result.tokens, result.known)]
    out = result.output + (["<eos>"] if result.finished else [])
    dec_in = bundle.tgt_vocab.decode(result.dec_in_ids.tolist())
    enc_mu, dec_mu, enc_tip, dec_tip = (a.project(x) for x in _stored_parts(a, result))
    cut = f" The source was cut at {len(result.tokens)} tokens." if result.truncated else ""
    unknown = f" Words the model does not know (read as <unk>): {', '.join(t for t in src if t.endswith('?'))}." \
        if not result.known.all() else ""
    stopped = "" if result.finished else " The decoder did not emit <eos> before its step cap."
    output = section("Decoded output", html.P(" ".join(result.output) or "(nothing)", id=ids.ATTENTION_OUTPUT,
                                              className="seq-output"),
                     note=f"Greedy decoding of {len(result.tokens)} source tokens. {_correct(bundle, result)}"
                          f"{cut}{unknown}{stopped}")
    aligned = ", ".join(f"{fat.TERM_LABELS[n]} {v}" for n, v in zip(TERM_NAMES, _text_alignment(terms, result)))
    return [
        output,
        section("Attention and what each term alone would give", dcc.Graph(
            figure=fat.attention_terms_figure(result.attn_uxs, terms, src, out)),
            note="Rows: output steps (the last is <eos>); columns: source positions. Left, the model's attention; "
                 "then the softmax of each score term on its own, on the same 0–1 scale. On this text each term's "
                 f"argmax matches the real one in: {aligned} output steps."),
        section("Scores and their four terms", dcc.Graph(figure=fat.score_terms_figure(result.scores_uxs, terms, src,
                                                                                         out)),
                note="The raw scores d_u · e_s and the four terms they split into, on one scale centred on 0; the rest "
                     "(terms with a residual) is what the four miss."),
        section("Encoder and decoder states", dcc.Graph(figure=fat.trajectory_figure(
            a.project(result.enc_sxn), a.project(result.dec_uxn), enc_mu, dec_mu, enc_tip, dec_tip, src, dec_in,
            dims, a.pca_explained_ratio_c)),
            note="One PCA fitted on the test set's encoder and decoder states together (the dot product compares "
                 "them). Dashed: μ at each step of this text; arrows: χ(w) from μ for the word read there; markers: "
                 "the states themselves (what is left between an arrow's tip and its state is the residual)."),
    ]


def _pct(x) -> str:
    return f"{100 * float(x):.0f}%" if np.isfinite(x) else "–"


def _table(rows, current) -> html.Section:
    """Every sequence model's test accuracy, variance fractions and per-term alignment accuracy (test set)."""
    head = ["Model", "Task", "Encoder", "Test exact match", "Encoder T / I / R", "Decoder T / I / R",
            *(f"align {fat.TERM_LABELS[n]}" for n in TERM_NAMES)]
    body = []
    for s in rows:
        try:
            a = get_seq(s.run_id).analysis
        except ModelUnavailable:
            continue
        fr = lambda f: " / ".join(_pct(x) for x in f)  # noqa: E731
        body.append(html.Tr(className="current" if s.run_id == current else "", children=[
            html.Td(dcc.Link(s.run_id, href=f"{PATH}?model={s.run_id}")), html.Td(TASK_LABELS.get(s.task, s.task)),
            html.Td(ENCODER_LABELS.get(s.cell, s.cell)), html.Td(_pct(s.metrics.get("test_accuracy", np.nan))),
            html.Td(fr(a.enc_fractions_3)), html.Td(fr(a.dec_fractions_3)),
            *(html.Td(_pct(v)) for v in a.alignment_5)]))
    return section("Every sequence model, on its test set", html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], id=ids.ATTENTION_TABLE,
        className="models-table"),
        note="T / I / R: the temporal, input-driven and residual shares of the states' variance. align: how often "
             "the term alone puts its maximum on the same source position as the real scores (teacher-forced test "
             "sequences). Click a model to open it.")

"""Guided tours for lesson mode: small JSON files in tours/ (one per tour, its name the slug), each a list of
steps that set model, text, view and a caption. Validated when loaded: a bad file or a step naming a model the
store lacks gives one sentence saying what is wrong, never a traceback. A tour is a link:
``/lesson?tour=line-attractor&step=2`` (steps count from 1).

A step may carry ``check``: facts about its text that its caption relies on (``predicted``: the class the model
ends on); tests/dashboard/test_lesson.py holds the shipped tours to them on the bundled models.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Tour", "TourStep", "TourError", "TOURS_DIR", "load_tour", "list_tours", "parse_tour", "tour_step_index"]

TOURS_DIR = Path(__file__).resolve().parents[1] / "tours"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")
MAX_FILE_BYTES = 64 * 1024
MAX_STEPS = 30
MAX_TEXT_CHARS = 2000
MAX_CAPTION_CHARS = 600
STEP_KEYS = {"model", "text", "view", "caption", "tokens", "check"}
TOUR_KEYS = {"title", "summary", "steps"}


class TourError(ValueError):
    """A tour that cannot be shown; the message is one sentence for the user."""


@dataclass(frozen=True)
class TourStep:
    model: str
    text: str
    view: str          # "2d" or "3d"
    caption: str
    tokens: int | None  # tokens shown when the step opens; None: the whole text
    check: dict


@dataclass(frozen=True)
class Tour:
    slug: str
    title: str
    summary: str
    steps: tuple[TourStep, ...]


def _text(obj: dict, key: str, where: str, limit: int, required: bool = True) -> str:
    value = obj.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise TourError(f"{where} needs a {key} of text (at most {limit} characters).")
    return value.strip()


def _step(raw, number: int, slug: str, known_models) -> TourStep:
    where = f"Step {number} of tour {slug!r}"
    if not isinstance(raw, dict):
        raise TourError(f"{where} is not an object with model, text, view and caption.")
    extra = sorted(set(raw) - STEP_KEYS)
    if extra:
        raise TourError(f"{where} has unknown fields {', '.join(extra)}; allowed: {', '.join(sorted(STEP_KEYS))}.")
    model = _text(raw, "model", where, 100)
    if known_models is not None and model not in known_models:
        raise TourError(f"{where} uses the model {model!r}, which is not in this store.")
    view = raw.get("view", "2d")
    if view not in ("2d", "3d"):
        raise TourError(f"{where} has view {view!r}; use \"2d\" or \"3d\".")
    tokens = raw.get("tokens", "all")
    if tokens != "all" and (not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0):
        raise TourError(f"{where} has tokens {tokens!r}; use a count of tokens to show first, or \"all\".")
    check = raw.get("check", {})
    if not isinstance(check, dict) or not all(isinstance(v, str) for v in check.values()):
        raise TourError(f"{where} has a check that is not an object of text values.")
    return TourStep(model, _text(raw, "text", where, MAX_TEXT_CHARS), view,
                    _text(raw, "caption", where, MAX_CAPTION_CHARS), None if tokens == "all" else tokens, dict(check))


def parse_tour(slug: str, raw_text: str, known_models=None) -> Tour:
    """A tour from its JSON text; ``known_models`` (run ids), when given, must contain every step's model."""
    try:
        raw = json.loads(raw_text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise TourError(f"The tour {slug!r} is not valid JSON (line {getattr(err, 'lineno', '?')}).") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list):
        raise TourError(f"The tour {slug!r} needs a title and a list of steps.")
    extra = sorted(set(raw) - TOUR_KEYS)
    if extra:
        raise TourError(f"The tour {slug!r} has unknown fields {', '.join(extra)}.")
    if not 1 <= len(raw["steps"]) <= MAX_STEPS:
        raise TourError(f"The tour {slug!r} needs between 1 and {MAX_STEPS} steps.")
    steps = tuple(_step(s, i + 1, slug, known_models) for i, s in enumerate(raw["steps"]))
    return Tour(slug, _text(raw, "title", f"The tour {slug!r}", 120),
                _text(raw, "summary", f"The tour {slug!r}", 400, required=False), steps)


def load_tour(slug, known_models=None, folder: Path | None = None) -> Tour:
    folder = TOURS_DIR if folder is None else folder
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise TourError("A tour name is lower-case letters, digits and dashes, such as line-attractor.")
    path = folder / f"{slug}.json"
    if not path.is_file():
        names = ", ".join(list_tours(folder)) or "none"
        raise TourError(f"There is no tour named {slug!r}; the tours are: {names}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise TourError(f"The tour {slug!r} is larger than {MAX_FILE_BYTES // 1024} KB.")
    return parse_tour(slug, path.read_text(encoding="utf-8", errors="replace"), known_models)


def list_tours(folder: Path | None = None) -> list[str]:
    folder = TOURS_DIR if folder is None else folder
    return sorted(p.stem for p in folder.glob("*.json") if SLUG.fullmatch(p.stem)) if folder.is_dir() else []


def tour_step_index(step, n_steps: int) -> tuple[int, str]:
    """(0-based index, message) for the URL's 1-based ``step``: a missing step is the first; a bad one is
    explained and the first is shown."""
    if step is None or step == "":
        return 0, ""
    try:
        number = int(str(step))
    except ValueError:
        number = 0
    if 1 <= number <= n_steps:
        return number - 1, ""
    shown = str(step) if len(str(step)) <= 20 else str(step)[:17] + "…"
    return 0, f"This tour has steps 1 to {n_steps}, not {shown!r}; showing step 1."

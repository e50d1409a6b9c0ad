"""The README tells the truth (issue 17): its examples are ones the bundled models get right, its links point inside
the repository, and no tracked file points at a path of the machine it was written on."""
from __future__ import annotations

import re
import subprocess

import pytest

from core import store
from core.config import repo_root

README = repo_root() / "README.md"
BUNDLED = repo_root() / "models_store"


def _tracked_text_files() -> list:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=repo_root(), capture_output=True, text=True, timeout=60)
    except OSError:
        pytest.skip("git is not installed")
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    paths = [repo_root() / line for line in out.stdout.splitlines()]
    return [p for p in paths if p.suffix in (".py", ".md", ".txt", ".toml", ".sh", ".css", ".js", ".cfg", "")
            and p.is_file()]


# paths of the machine this was written on, assembled so that this file does not contain them itself
MARKERS = ("/".join(("..", "shared")), "/".join(("", "work", "main")), "/".join(("", "work", "shared")))


def test_nothing_tracked_points_outside_the_repository():
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in MARKERS:
            assert marker not in text, f"{path.relative_to(repo_root())} mentions {marker}"


def test_readme_links_point_at_files_in_the_repository():
    for target in re.findall(r"\]\(([^)#]+)\)", README.read_text(encoding="utf-8")):
        if not target.startswith(("http://", "https://")):
            assert (repo_root() / target).exists(), f"README links to {target}, which is not in the repository"


@pytest.mark.skipif(not (BUNDLED / "gru-imdb" / "model.safetensors").is_file(), reason="no bundled gru-imdb")
def test_readme_examples_are_ones_the_default_model_gets_right():
    text = README.read_text(encoding="utf-8")
    bundle = store.load_path(BUNDLED / "gru-imdb")
    names = bundle.class_names
    examples = {"This movie was terrible.": "negative", "a moving film": "positive", "dull and long": "negative",
                "Not good at all, a waste of time.": "negative"}
    for sentence, label in examples.items():
        assert f'"{sentence}"' in text, f"the README no longer shows {sentence!r}: update this test with it"
        probs = bundle.predict([sentence])[0]
        assert names[int(probs.argmax())] == label and probs.max() > 0.9, (sentence, probs)
    assert 'eval gru-reviews --text "not good at all"' not in text  # 50.5% negative: a coin flip

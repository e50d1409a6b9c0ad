"""Damaged bundles and analyses are refused with one sentence and listed as unavailable; nothing unpickles.

Each kind of damage is applied to a fresh copy of the analyzed tiny bundle. ``make_damaged_store`` builds a
store holding one bundle per kind plus a good one; tests/dashboard/test_models_page.py reuses it.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from core import store
from core.analysis_file import NOT_ANALYZED, AnalysisError, analysis_problem
from core.analysis_view import load_analysis
from tests.conftest import TINY_RUN_ID

REPO = Path(__file__).resolve().parents[2]
GOOD_RUN_ID = "good"


def assert_one_sentence(message: str) -> None:
    assert message and len(message) < 300 and "\n" not in message, message
    assert not re.search(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"


# ---- damage to analysis.npz: each returns a fragment the reason must contain ---------------------
def _arrays(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "analysis.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _rewrite_analysis(folder: Path, change) -> None:
    arrays = _arrays(folder)
    change(arrays)
    np.savez(folder / "analysis.npz", allow_pickle=True, **arrays)  # allow_pickle: the damage may need it


class Payload:
    """Unpickling this opens (creates) a marker file: proof that a reader ran pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def missing(folder: Path) -> str:
    (folder / "analysis.npz").unlink()
    return "not been analyzed"


def stale(folder: Path) -> str:
    tensors = load_file(str(folder / "model.safetensors"))
    tensors = {name: t + 0.01 for name, t in tensors.items()}  # retrained: same shapes, new weights
    save_file(tensors, str(folder / "model.safetensors"))
    return "stale"


def truncated(folder: Path, keep: float = 0.5) -> str:
    path = folder / "analysis.npz"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return "unreadable"


def wrong_version(folder: Path) -> str:
    _rewrite_analysis(folder, lambda a: a.update(analysis_version=np.array(2)))
    return "another version"


def no_version(folder: Path) -> str:
    _rewrite_analysis(folder, lambda a: a.pop("analysis_version"))
    return "another version"


def version_not_scalar(folder: Path) -> str:
    _rewrite_analysis(folder, lambda a: a.update(analysis_version=np.ones(10**6, np.int64)))
    return "another version"


def object_array(folder: Path) -> str:
    _rewrite_analysis(folder, lambda a: a.update(notes_o=np.array([{"a": 1}, None], dtype=object)))
    return "object arrays"


def object_payload(folder: Path) -> str:
    """A real array replaced by an object array whose unpickling would create a file."""
    marker = folder.parent / "pwned"
    _rewrite_analysis(folder, lambda a: a.update(pca_mean_n=np.array([Payload(marker)], dtype=object)))
    return "object arrays"


def lying_header(folder: Path) -> str:
    """An .npy header claiming 8 TB of float64 over 8 bytes: numpy would allocate before reading."""
    with zipfile.ZipFile(folder / "analysis.npz", "a") as zf, zf.open("huge.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        fh.write(b"\0" * 8)
    return "shorter than its header"


def foreign_member(folder: Path) -> str:
    with zipfile.ZipFile(folder / "analysis.npz", "a") as zf:
        zf.writestr("payload.pkl", b"\x80\x04N.")
    return "not a numpy array"


ANALYSIS_DAMAGE = {f.__name__: f for f in (missing, stale, truncated, wrong_version, no_version, version_not_scalar,
                                           object_array, object_payload, lying_header, foreign_member)}


# ---- damage to the bundle itself (tests/core/test_store.py covers many more variants) ----------
def _edit_config(folder: Path, change) -> None:
    meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    change(meta)
    (folder / "config.json").write_text(json.dumps(meta), encoding="utf-8")


def truncated_weights(folder: Path) -> str:
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-40])
    return "model.safetensors"


def wrong_shapes(folder: Path) -> str:
    _edit_config(folder, lambda m: m["run"]["model"].update(units=16))
    return "shape"


def wrong_schema(folder: Path) -> str:
    _edit_config(folder, lambda m: m.update(schema_version=99))
    return "schema_version"


def extra_keys(folder: Path) -> str:
    _edit_config(folder, lambda m: m["run"]["model"].update(backdoor=True))
    return "backdoor"


def huge_numbers(folder: Path) -> str:
    _edit_config(folder, lambda m: m["run"]["model"].update(units=10**4000))  # below int-parsing limits
    return "config.json"


BUNDLE_DAMAGE = {f.__name__: f for f in (truncated_weights, wrong_shapes, wrong_schema, extra_keys, huge_numbers)}
STORE_ANALYSIS_DAMAGE = ("missing", "stale", "truncated", "wrong_version", "object_array")


def make_damaged_store(analyzed_folder: Path, root: Path) -> dict[str, tuple[str, str]]:
    """A store with a good bundle and one per kind of damage: run id -> (what breaks, reason fragment)."""
    root.mkdir(parents=True, exist_ok=True)
    expected = {GOOD_RUN_ID: ("", "")}
    shutil.copytree(analyzed_folder, root / GOOD_RUN_ID)
    analysis_kinds = {k: ANALYSIS_DAMAGE[k] for k in STORE_ANALYSIS_DAMAGE}
    for part, kinds in (("bundle", BUNDLE_DAMAGE), ("analysis", analysis_kinds)):
        for name, damage in kinds.items():
            run_id = name.replace("_", "-")
            shutil.copytree(analyzed_folder, root / run_id)
            expected[run_id] = (part, damage(root / run_id))
    return expected


@pytest.fixture
def analyzed_copy(analyzed_store, tmp_path, monkeypatch) -> Path:
    """A damageable copy of the analyzed tiny bundle, alone in its own store."""
    root = tmp_path / "store"
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / TINY_RUN_ID)
    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(root))
    return root / TINY_RUN_ID


# ---- analysis damage ---------------------------------------------------------------------
def test_intact_analysis_passes_the_cheap_check(analyzed_copy):
    bundle = store.load_path(analyzed_copy)
    assert analysis_problem(analyzed_copy / "analysis.npz", bundle.weights_sha256) == ""
    [summary] = store.list_bundles()
    assert summary.ok and summary.has_analysis and summary.analysis_reason == ""


@pytest.mark.parametrize("kind", list(ANALYSIS_DAMAGE))
def test_damaged_analysis_is_refused_with_one_sentence(analyzed_copy, kind):
    fragment = ANALYSIS_DAMAGE[kind](analyzed_copy)
    bundle = store.load_path(analyzed_copy)  # the model itself is intact and still predicts
    assert bundle.predict(["red red green"]).shape == (1, 2)
    reason = analysis_problem(analyzed_copy / "analysis.npz", bundle.weights_sha256)
    assert_one_sentence(reason)
    assert fragment in reason
    with pytest.raises(AnalysisError) as info:
        load_analysis(analyzed_copy / "analysis.npz", bundle.weights_sha256)
    assert str(info.value) == reason
    with pytest.raises(AnalysisError):
        bundle.analysis  # noqa: B018
    [summary] = store.list_bundles()
    assert summary.ok and not summary.has_analysis and summary.analysis_reason == reason


@pytest.mark.parametrize("keep", [0.0, 0.001, 0.5, 0.999])
def test_truncated_analysis_at_any_length(analyzed_copy, keep):
    truncated(analyzed_copy, keep)
    reason = analysis_problem(analyzed_copy / "analysis.npz")
    assert_one_sentence(reason)
    assert "unreadable" in reason
    with pytest.raises(AnalysisError, match="unreadable"):
        load_analysis(analyzed_copy / "analysis.npz")


def test_missing_analysis_says_not_analyzed(analyzed_copy):
    missing(analyzed_copy)
    [summary] = store.list_bundles()
    assert summary.analysis_reason == NOT_ANALYZED and not summary.has_analysis


def test_object_payload_never_runs(analyzed_copy):
    object_payload(analyzed_copy)
    marker = analyzed_copy.parent / "pwned"
    with np.load(analyzed_copy / "analysis.npz", allow_pickle=True) as npz:  # the payload is live...
        npz["pca_mean_n"]
    assert marker.exists()
    marker.unlink()
    store.list_bundles()  # ...but none of our readers unpickles it
    with pytest.raises(AnalysisError, match="object arrays"):
        load_analysis(analyzed_copy / "analysis.npz")
    with pytest.raises(AnalysisError, match="object arrays"):
        store.load_path(analyzed_copy).analysis  # noqa: B018
    assert not marker.exists()


def test_flipped_bytes_in_an_array_body_are_refused_on_load(analyzed_copy):
    """The listing reads headers only, so it cannot see a damaged body; loading checks every CRC."""
    path = analyzed_copy / "analysis.npz"
    data = bytearray(path.read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 64):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(AnalysisError) as info:
        load_analysis(path)
    assert_one_sentence(str(info.value))


# ---- a store holding every kind of damage --------------------------------------------------
def test_store_with_every_kind_of_damage(analyzed_store, tmp_path):
    root = tmp_path / "store"
    expected = make_damaged_store(analyzed_store / TINY_RUN_ID, root)
    summaries = {s.run_id: s for s in store.list_bundles(root)}
    assert sorted(summaries) == sorted(expected)
    for run_id, (part, fragment) in expected.items():
        s = summaries[run_id]
        if part == "bundle":
            assert not s.ok and fragment in s.reason, (run_id, s.reason)
            assert_one_sentence(s.reason)
        elif part == "analysis":
            assert s.ok and not s.has_analysis and fragment in s.analysis_reason, (run_id, s.analysis_reason)
            assert_one_sentence(s.analysis_reason)
    good = store.load(GOOD_RUN_ID, store=root)
    assert summaries[GOOD_RUN_ID].ok and summaries[GOOD_RUN_ID].has_analysis
    probs = good.predict(["red red red", "green green green"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert probs[0].argmax() == 0 and probs[1].argmax() == 1
    assert good.trajectory("red green red").xyz_tx3.shape == (3, 3)


# ---- no code path unpickles ----------------------------------------------------------------
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "cloudpickle", "dill", "joblib", "marshal", "shelve"}


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    if isinstance(func, ast.Attribute):
        return f"?.{func.attr}"
    return func.id if isinstance(func, ast.Name) else "?"


def _keyword_is(node: ast.Call, name: str, value) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value
               for k in node.keywords)


def _unsafe_call(node: ast.Call) -> str:
    name = _call_name(node)
    if name == "torch.load" and not _keyword_is(node, "weights_only", True):
        return "torch.load without weights_only=True"
    if name in ("np.load", "numpy.load") and not _keyword_is(node, "allow_pickle", False):
        return f"{name} without allow_pickle=False"
    if name.endswith(".read_array") and not _keyword_is(node, "allow_pickle", False):
        return "read_array without allow_pickle=False"
    if any(k.arg == "allow_pickle" and not _keyword_is(node, "allow_pickle", False) for k in node.keywords):
        return "allow_pickle other than False"
    return ""


def _unsafe_node(node: ast.AST) -> str:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        bad = [m for m in modules if m.split(".")[0] in UNSAFE_MODULES]
        return f"imports {bad[0]}" if bad else ""
    if isinstance(node, ast.Name) and node.id in UNSAFE_MODULES:
        return f"uses {node.id}"
    if isinstance(node, ast.Attribute) and "pickle" in node.attr.lower():
        return f"uses .{node.attr}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in UNSAFE_MODULES:
        return f"names module {node.value!r}"  # importlib.import_module("pickle") and friends
    return _unsafe_call(node) if isinstance(node, ast.Call) else ""


def unsafe_loads(source: str, filename: str) -> list[str]:
    """Every place in one file that could unpickle, as 'file:line: what'."""
    return [f"{filename}:{node.lineno}: {problem}" for node in ast.walk(ast.parse(source, filename))
            if (problem := _unsafe_node(node))]


def _app_sources() -> list[Path]:
    files = [REPO / "app.py"]
    for folder in ("core", "dashboard", "benchmarks"):
        files += sorted((REPO / folder).rglob("*.py"))
    return files


def test_no_code_path_unpickles():
    sources = _app_sources()
    assert len(sources) > 30  # the scan really looked at the project
    found = [hit for path in sources for hit in unsafe_loads(path.read_text(encoding="utf-8"),
                                                             str(path.relative_to(REPO)))]
    assert not found, "code that could unpickle:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "import pickle", "from pickle import loads", "import dill as d", "import joblib", "import shelve",
    "from marshal import load", "import cloudpickle", "torch.load(path)", "torch.load(path, weights_only=False)",
    "np.load(path)", "numpy.load(path, allow_pickle=True)", "np.savez(f, allow_pickle=True, a=a)",
    "pd.read_pickle(path)", "df.to_pickle(path)", "importlib.import_module('pickle')",
    "np.lib.format.read_array(fh)", "np.load(path, allow_pickle=flag)",
])
def test_the_scan_catches_unsafe_code(snippet):
    assert unsafe_loads(snippet, "x.py"), snippet


@pytest.mark.parametrize("snippet", [
    "torch.load(path, weights_only=True)", "np.load(path, allow_pickle=False)", "x = 'allow_pickle=False'",
    "np.lib.format.read_array(fh, allow_pickle=False)", "# import pickle", "'''never unpickled'''",
])
def test_the_scan_allows_safe_code(snippet):
    assert unsafe_loads(snippet, "x.py") == [], snippet

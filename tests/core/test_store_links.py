"""The store never follows a symbolic link (issue 16): a symlinked bundle folder, or a symlinked file in a
bundle, is listed as unavailable with the reason, never loaded, never deleted through (which left a
`.trash-<name>` link behind and said "Deleted"), and never written through."""
from __future__ import annotations

import os
import shutil

import pytest

from core import store
from tests.conftest import TINY_RUN_ID


@pytest.fixture
def linked_store(tiny_bundle, tmp_path):
    """The tiny bundle's store plus `linked` -> a valid bundle outside the store, and `half-linked`, a real
    folder whose weights are a link to a file outside the store."""
    root = tiny_bundle.path.parent
    outside = tmp_path / "outside" / TINY_RUN_ID
    shutil.copytree(tiny_bundle.path, outside)
    os.symlink(outside, root / "linked")
    half = root / "half-linked"
    shutil.copytree(tiny_bundle.path, half)
    (half / "model.safetensors").unlink()
    os.symlink(outside / "model.safetensors", half / "model.safetensors")
    return root, outside


@pytest.mark.parametrize("name", ["linked", "half-linked"])
def test_a_linked_bundle_is_listed_as_unavailable_and_never_loaded(linked_store, name):
    root, _ = linked_store
    rows = {s.run_id: s for s in store.list_bundles(root)}
    assert rows[TINY_RUN_ID].ok
    assert not rows[name].ok and "symbolic link" in rows[name].reason
    with pytest.raises(store.BundleError, match="symbolic link"):
        store.load(name, root)


def test_deleting_a_linked_bundle_is_refused_and_leaves_everything_as_it_was(linked_store):
    root, outside = linked_store
    with pytest.raises(store.BundleError, match="symbolic link"):
        store.delete_bundle("linked", root)
    assert (root / "linked").is_symlink() and (outside / "config.json").is_file()
    assert not [p.name for p in root.iterdir() if p.name.startswith(".trash-")]


def test_a_bundle_is_never_saved_through_a_link(linked_store, tiny_bundle):
    root, outside = linked_store
    before = (outside / "config.json").read_text()
    b = tiny_bundle
    with pytest.raises(store.BundleError, match="symbolic link"):
        store.save_bundle(b.config.__class__.from_dict({**b.config.to_dict(), "run_id": "linked"}), b.model,
                          b.vocab, b.info, b.metrics, {}, store=root)
    assert (outside / "config.json").read_text() == before


def test_cleanup_removes_a_linked_trash_entry_without_following_it(linked_store):
    root, outside = linked_store
    os.symlink(outside, root / ".trash-linked-abcd1234")  # what deleting a linked bundle used to leave
    assert ".trash-linked-abcd1234" in store.cleanup_temp(root)
    assert not os.path.lexists(root / ".trash-linked-abcd1234") and (outside / "config.json").is_file()

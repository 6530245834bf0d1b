"""The upstream recipe installer: patches apply exactly or fail loudly."""
import dataclasses

import pytest

from tools.upstream import installer
from tools.upstream import recipes


def _patch(**kw):
    fields = dict(path='pkg/mod.py', old='old()', new='new()', why='test')
    fields.update(kw)
    return installer.Patch(**fields)


def _tree(tmp_path, text):
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'mod.py').write_text(text)
    return tmp_path


def test_a_patch_replaces_its_text(tmp_path):
    root = _tree(tmp_path, 'x = old()\ny = old()\n')
    installer.apply_patches(root, [_patch(count=2)])
    assert (root / 'pkg' / 'mod.py').read_text() == 'x = new()\ny = new()\n'


@pytest.mark.parametrize('text', ['x = 1\n', 'old() + old()\n'])
def test_a_patch_that_does_not_fit_fails_loudly(tmp_path, text):
    root = _tree(tmp_path, text)
    with pytest.raises(installer.PatchError, match='pkg/mod.py: expected 1'):
        installer.apply_patches(root, [_patch()])
    assert (root / 'pkg' / 'mod.py').read_text() == text


def test_the_cache_key_follows_the_recipe():
    recipe = recipes.CEILOMETER_9_0_7
    assert recipe.digest() == recipe.digest()
    changed = dataclasses.replace(recipe, patches=recipe.patches[1:])
    assert changed.digest() != recipe.digest()
    assert dataclasses.replace(recipe, no_deps=False).digest() != \
        recipe.digest()


def test_the_venv_location_is_overridable(monkeypatch, tmp_path):
    monkeypatch.setenv(installer.DIR_ENV, str(tmp_path))
    assert installer.base_dir() == tmp_path
    monkeypatch.delenv(installer.DIR_ENV)
    assert installer.base_dir() == installer.REPO / '.upstream'

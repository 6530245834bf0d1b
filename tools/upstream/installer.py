"""Build (once) a virtualenv holding an upstream release, patched.

A Recipe is data: the package to install ``--no-deps``, a requirements file
of libraries it runs on, and exact string patches for the facts of its code
that no longer hold on today's Python and libraries. ``ensure(recipe)``
builds the virtualenv if the recipe's hash is not the one recorded in it,
and returns it; a second call with the same recipe only reads one file.
A patch that does not find its text exactly ``count`` times fails loudly:
a recipe never runs on code it did not expect.
"""
import dataclasses
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Tuple

REPO = pathlib.Path(__file__).resolve().parents[2]
DIR_ENV = 'CEILOMETER_EXPORT_UPSTREAM_DIR'
_STAMP = 'recipe.sha256'


class InstallError(Exception):
    """The virtualenv could not be built (pip failed, a patch missed)."""


class PatchError(InstallError):
    """A patch's text was not found exactly as expected."""


@dataclasses.dataclass(frozen=True)
class Patch:
    path: str          # relative to site-packages
    old: str
    new: str
    why: str
    count: int = 1     # exact number of occurrences replaced


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str                          # e.g. ceilometer-9.0.7
    package: str                       # pip requirement
    requirements: str                  # file name beside this module
    patches: Tuple[Patch, ...] = ()
    # An old release's own pins do not install on today's Python: it goes
    # in without them, over the requirements file. A current release
    # (e.g. ceilometer 27.0.0) can take its own with no_deps=False.
    no_deps: bool = True

    def requirements_path(self) -> pathlib.Path:
        return pathlib.Path(__file__).with_name(self.requirements)

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(sys.version.encode())
        h.update(('%s %s' % (self.package, self.no_deps)).encode())
        h.update(self.requirements_path().read_bytes())
        for p in self.patches:
            for part in (p.path, p.old, p.new, str(p.count)):
                h.update(b'\0' + part.encode())
        return h.hexdigest()


@dataclasses.dataclass(frozen=True)
class Venv:
    path: pathlib.Path

    @property
    def python(self) -> str:
        return str(self.path / 'bin' / 'python')

    def site_packages(self) -> pathlib.Path:
        out = subprocess.run(
            [self.python, '-c', 'import sysconfig; '
             'print(sysconfig.get_paths()["purelib"])'],
            check=True, capture_output=True, text=True).stdout
        return pathlib.Path(out.strip())


def base_dir() -> pathlib.Path:
    """Where upstream virtualenvs live: $CEILOMETER_EXPORT_UPSTREAM_DIR."""
    return pathlib.Path(os.environ.get(DIR_ENV) or REPO / '.upstream')


def ensure(recipe: Recipe, base: pathlib.Path = None) -> Venv:
    """The recipe's virtualenv, built now unless already built as is."""
    venv = Venv((base or base_dir()) / recipe.name)
    stamp = venv.path / _STAMP
    digest = recipe.digest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return venv
    if venv.path.exists():
        shutil.rmtree(venv.path)
    venv.path.parent.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, '-m', 'venv', str(venv.path)])
    pip = [venv.python, '-m', 'pip', 'install', '-q',
           '--disable-pip-version-check']
    _run(pip + ['-r', str(recipe.requirements_path())])
    _run(pip + (['--no-deps'] if recipe.no_deps else []) + [recipe.package])
    apply_patches(venv.site_packages(), recipe.patches)
    stamp.write_text(digest + '\n')
    return venv


def apply_patches(root: pathlib.Path, patches) -> None:
    for patch in patches:
        target = root / patch.path
        text = target.read_text()
        found = text.count(patch.old)
        if found != patch.count:
            raise PatchError('%s: expected %d occurrence(s) of %r, found %d '
                             '(patch: %s)' % (patch.path, patch.count,
                                              patch.old, found, patch.why))
        target.write_text(text.replace(patch.old, patch.new))
        # Drop stale bytecode so the patched source is what runs.
        cache = target.parent / '__pycache__'
        for pyc in cache.glob(target.stem + '.*.pyc'):
            pyc.unlink()


def _run(cmd):
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True,
                       env=dict(os.environ, PIP_NO_INPUT='1'))
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or '').strip().splitlines()[-3:]
        raise InstallError('%s failed: %s' % (' '.join(cmd[:5]),
                                              ' | '.join(tail))) from exc

"""Recipes for upstream Ceilometer releases (see installer.py).

Each patch is a fact of that release's code on Python 3.11 and on the
libraries pinned in its requirements file; ``why`` says which.
"""
from tools.upstream.installer import Patch, Recipe

_FNMATCH = 'oslo_utils.fnmatch is gone; stdlib fnmatch is equivalent'
_ARGSPEC = 'inspect.getargspec is gone; getfullargspec()[0] is the same list'


def _fnmatch(path):
    return Patch(path, 'from oslo_utils import fnmatch', 'import fnmatch',
                 _FNMATCH)


def _argspec(path, count=1):
    return Patch(path, 'inspect.getargspec(', 'inspect.getfullargspec(',
                 _ARGSPEC, count)


CEILOMETER_9_0_7 = Recipe(
    name='ceilometer-9.0.7',
    package='ceilometer==9.0.7',
    requirements='ceilometer-9.0.7-requirements.txt',
    patches=(
        _fnmatch('ceilometer/pipeline.py'),
        _fnmatch('ceilometer/agent/manager.py'),
        _fnmatch('ceilometer/event/converter.py'),
        _fnmatch('ceilometer/dispatcher/gnocchi.py'),
        _argspec('ceilometer/api/controllers/v2/base.py'),
        _argspec('ceilometer/api/controllers/v2/utils.py', 3),
        _argspec('ceilometer/storage/base.py'),
        Patch('ceilometer/compute/pollsters/__init__.py',
              'collections.Iterable', 'collections.abc.Iterable',
              'collections.Iterable moved to collections.abc'),
        Patch('ceilometer/utils.py',
              '    items = mapping.items()\n    for key, value in items:\n'
              '        del mapping[key]',
              '    items = list(mapping.items())\n    for key, value in items:\n'
              '        del mapping[key]',
              'lowercase_keys re-keys a dict while iterating items(): '
              'RuntimeError on every complex query with a filter'),
        Patch('ceilometer/utils.py',
              '    items = mapping.items()\n    for key, value in items:\n'
              '        mapping[key] = value.lower()',
              '    items = list(mapping.items())\n    for key, value in items:\n'
              '        mapping[key] = value.lower()',
              'lowercase_values: same pattern, made safe the same way'),
        Patch('ceilometer/storage/impl_sqlalchemy.py',
              'db_session.EngineFacade(url, **options)',
              'db_session.EngineFacade(url, autocommit=True, **options)',
              'oslo.db >= 12 defaults the legacy EngineFacade to '
              'autocommit=False and Ceilometer never closes its read '
              'sessions: on SQLite every write after a GET is "database '
              'is locked"'),
    ),
)

# A current release, for its HTTP publisher (the receiver's tests): it
# installs with every dependency it declares, and runs unpatched.
CEILOMETER_27_0_0 = Recipe(
    name='ceilometer-27.0.0',
    package='ceilometer==27.0.0',
    requirements='ceilometer-27.0.0-requirements.txt',
)

RECIPES = {r.name: r for r in (CEILOMETER_9_0_7, CEILOMETER_27_0_0)}

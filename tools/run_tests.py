#!/usr/bin/env python3
"""The test suite in one command, with nothing but Python 3 installed:

    python3 tools/run_tests.py                 # unit + functional tests
    python3 tools/run_tests.py tests/unit -x   # arguments go to pytest
    python3 tools/run_tests.py --pep8          # flake8 instead

Creates (or reuses) the virtualenv ``.venv`` beside this repository,
installs requirements.txt, test-requirements.txt and the package itself
(editable) whenever one of those files changed, then runs
``python -m pytest -rs`` in it. Exits with pytest's status, except that
"no tests ran" (pytest's 5) is a failure: a suite that collects nothing
must never look green. ``CEILOMETER_EXPORT_REQUIRE_DATABASES=1`` turns
database skips into failures (CI sets it).
"""

import hashlib
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, '.venv')
# Whatever changes what gets installed.
INPUTS = ('requirements.txt', 'test-requirements.txt', 'setup.cfg',
          'setup.py')
STAMP = os.path.join(VENV, '.ceilometer-export-installed')
PYTEST_NO_TESTS = 5


def _python():
    return os.path.join(VENV, 'bin', 'python')


def _digest():
    digest = hashlib.sha256()
    for name in INPUTS:
        path = os.path.join(ROOT, name)
        if os.path.exists(path):
            with open(path, 'rb') as stream:
                digest.update(name.encode() + b'\0' + stream.read())
    return digest.hexdigest()


def _installed():
    try:
        with open(STAMP) as stream:
            return stream.read().strip()
    except OSError:
        return None


def ensure_venv():
    """The virtualenv, (re)installed when its inputs changed."""
    if not os.path.exists(_python()):
        print('run_tests: creating %s' % VENV, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = _digest()
    if _installed() == want:
        return
    print('run_tests: installing requirements and the package into %s'
          % VENV, flush=True)
    pip = [_python(), '-m', 'pip', 'install', '-q']
    subprocess.check_call(pip + ['--upgrade', 'pip'], cwd=ROOT)
    subprocess.check_call(pip + ['-r', 'requirements.txt',
                                 '-r', 'test-requirements.txt'], cwd=ROOT)
    subprocess.check_call(pip + ['-e', '.'], cwd=ROOT)
    with open(STAMP, 'w') as stream:
        stream.write(want + '\n')


def main(argv):
    if sys.version_info < (3, 9):
        sys.exit('run_tests: Python 3.9 or newer is needed, this is %s'
                 % sys.version.split()[0])
    try:
        ensure_venv()
    except subprocess.CalledProcessError as exc:
        print('run_tests: installing failed (%s)' % exc, file=sys.stderr)
        return 1
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    if argv[:1] == ['--pep8']:
        command = [_python(), '-m', 'flake8'] + (
            argv[1:] or ['ceilometer_export', 'tests', 'tools'])
        return subprocess.call(command, cwd=ROOT, env=env)
    command = [_python(), '-m', 'pytest', '-rs'] + (argv or ['tests'])
    code = subprocess.call(command, cwd=ROOT, env=env)
    if code == PYTEST_NO_TESTS:
        print('run_tests: pytest ran no tests: that is a failure',
              file=sys.stderr)
        return 1
    return code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

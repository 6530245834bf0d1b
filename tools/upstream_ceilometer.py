#!/usr/bin/env python3
"""The real upstream Ceilometer, for contract tests and by hand.

    tools/upstream_ceilometer.py install [--recipe ceilometer-9.0.7]
        build (or reuse) the patched virtualenv; prints its path
    tools/upstream_ceilometer.py serve [--samples FILE.json] [--project P]
        start the v2 API on loopback (SQLite in a temp dir) and print its
        URL and tokens; Ctrl-C stops it

The virtualenv lives in .upstream/NAME (or $CEILOMETER_EXPORT_UPSTREAM_DIR/
NAME); see tools/upstream/installer.py for the recipe format.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.upstream import api  # noqa: E402
from tools.upstream import installer  # noqa: E402
from tools.upstream import recipes  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command', choices=('install', 'serve'))
    parser.add_argument('--recipe', default=recipes.CEILOMETER_9_0_7.name,
                        choices=sorted(recipes.RECIPES))
    parser.add_argument('--samples', help='JSON list of samples '
                        '(record_metering_data dicts, ISO timestamps)')
    parser.add_argument('--project', action='append', default=[],
                        help='also make a member token for this project')
    args = parser.parse_args(argv)
    try:
        venv = installer.ensure(recipes.RECIPES[args.recipe])
    except installer.InstallError as exc:
        print('upstream install failed: %s' % exc, file=sys.stderr)
        return 1
    if args.command == 'install':
        print(venv.path)
        return 0
    samples = []
    if args.samples:
        with open(args.samples) as f:
            samples = json.load(f)
    with api.UpstreamApi(venv, tempfile.mkdtemp(prefix='upstream-'),
                         samples, args.project) as server:
        print('url: %s' % server.url)
        print('admin token: %s' % api.ADMIN_TOKEN)
        for project in args.project:
            print('member token of %s: %s' % (project,
                                              api.project_token(project)))
        try:
            server._proc.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())

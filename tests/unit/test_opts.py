"""Options: one registration source, and a committed sample that is not
stale."""

import os
import subprocess
import sys

from keystoneauth1 import loading as ks_loading

from ceilometer_export import opts
from ceilometer_export import service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
SAMPLE = os.path.join(ROOT, 'etc', 'ceilometer-export',
                      'ceilometer-export.conf.sample')
GENERATOR = os.path.join(ROOT, 'etc', 'ceilometer-export',
                         'ceilometer-export-config-generator.conf')


def test_sample_config_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    exe = os.path.join(os.path.dirname(sys.executable),
                       'oslo-config-generator')
    subprocess.run([exe, '--config-file', GENERATOR, '--output-file',
                    str(out)], check=True, cwd=ROOT)
    with open(SAMPLE) as committed:
        assert committed.read() == out.read_text(), (
            'etc sample is stale: run tox -e genconfig and commit it')


def test_every_listed_option_is_registered():
    conf = service.new_conf()
    # The password plugin's options are registered once auth_type is known.
    plugin = {(opts.CREDENTIALS_GROUP, o.dest) for o in
              ks_loading.get_auth_plugin_conf_options('password')}
    for group, group_opts in opts.list_opts():
        for opt in group_opts:
            if (group, opt.dest) not in plugin:
                assert opt.dest in conf[group], (group, opt.dest)


def test_secret_options_are_marked():
    listed = dict(opts.list_opts())
    by_name = {(g, o.dest): o for g, group in listed.items() for o in group}
    for key in [('database', 'connection'), ('coordination', 'backend_url'),
                ('service_credentials', 'password')]:
        assert by_name[key].secret, key

"""ceilometer-export-simulator: --help, --print-config, append."""
import configparser

import pytest

from ceilometer_export.cmd import simulator as cli
from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients


def _option_strings(parser):
    for action in parser._actions:
        yield from action.option_strings


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        cli.main(['--help'])
    text = capsys.readouterr().out
    for parser in (cli.serve_parser(), cli.append_parser()):
        for option in _option_strings(parser):
            assert option in text, option
        for action in parser._actions:
            assert action.help, action.option_strings


def test_print_config_points_at_the_simulator(capsys):
    assert cli.main(['--print-config', '--port', '9777',
                     '--keystone-port', '9500']) == 0
    conf = configparser.ConfigParser()
    conf.read_string(capsys.readouterr().out)
    creds = conf['service_credentials']
    assert creds['auth_url'] == 'http://127.0.0.1:9500/v3'
    assert (creds['username'], creds['password'], creds['project_name']) \
        == ('admin', 'secret', 'admin')
    assert creds['auth_type'] == 'password'
    assert 'ceilometer' in conf


def test_print_config_works_with_keystoneauth(capsys):
    with Simulator(samples=[]) as sim:
        port = int(sim.keystone_url.rsplit(':', 1)[1])
        cli.main(['--print-config', '--keystone-port', str(port)])
        conf = configparser.ConfigParser()
        conf.read_string(capsys.readouterr().out)
        creds = dict(conf['service_credentials'])
        from keystoneauth1 import loading, session
        loader = loading.get_plugin_loader(creds.pop('auth_type'))
        for key in ('region_name', 'interface'):
            creds.pop(key)
        sess = session.Session(auth=loader.load_from_options(**creds))
        assert sess.get_endpoint(service_type='metering',
                                 interface='public') == sim.ceilometer_url


def test_append_late_samples(capsys):
    with Simulator() as sim:
        before = len(sim.store)
        code = cli.main(['append', '--url', sim.ceilometer_url,
                         '--auth-url', sim.keystone_url + '/v3',
                         '--count', '20', '--meter', 'cpu_util',
                         '--timestamp', '2024-01-01T00:30:00', '--seed', '1'])
        assert code == 0
        assert 'appended 20 samples' in capsys.readouterr().out
        assert len(sim.store) == before + 20
        cc = clients.admin(sim)
        q = [{'field': 'timestamp', 'op': 'ge', 'value': '2024-01-01T00:30:00'},
             {'field': 'timestamp', 'op': 'le', 'value': '2024-01-01T00:30:00'},
             {'field': 'source', 'value': 'p-alpha-0001:openstack'}]
        late = cc.samples.list(meter_name='cpu_util', q=q, limit=1000)
        assert late and all(s.recorded_at > '2025' for s in late)


def test_append_reports_failures(capsys):
    code = cli.main(['append', '--url', 'http://127.0.0.1:9',
                     '--auth-url', 'http://127.0.0.1:9/v3', '--count', '1'])
    assert code == 1
    assert 'append failed' in capsys.readouterr().err


def test_generator_flags():
    args = cli.serve_parser().parse_args(
        ['--samples', '500', '--instances', '2', '--meters',
         'cpu_util,image.size', '--start', '2024-03-01T00:00:00'])
    samples = cli._generate(args, cli._cloud(args))
    assert len(samples) >= 500
    assert {s['counter_name'] for s in samples} == {'cpu_util', 'image.size'}
    assert min(s['timestamp'] for s in samples).isoformat() == \
        '2024-03-01T00:00:00'


def test_bad_user_flag_is_a_usage_error():
    with pytest.raises(SystemExit) as caught:
        cli.main(['--user', 'nopassword'])
    assert caught.value.code == 2

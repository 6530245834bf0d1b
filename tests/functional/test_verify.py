"""ceilometer-export-verify against the simulator, into every backend:
a clean export verifies clean; random damage (rows deleted, samples that
arrive later than the lookback) is listed hour by hour, exactly, and
--repair makes the database equal the API again; duplicated message ids
and rejected samples are accounted for; usage errors exit 2."""

import datetime
import json
import random
import re
import time
import uuid

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import export
from ceilometer_export.cmd import verify
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from tests.functional import harness

START = datetime.datetime(2024, 1, 1)
HOUR = datetime.timedelta(hours=1)
ALPHA, BETA = 'p-alpha-0001', 'p-beta-0002'
# name -> (query, meters, whether a raw sample belongs to it)
MAPPINGS = {
    'all': ('', ('cpu_util', 'network.incoming.bytes'), lambda s: True),
    'tiny': ('metadata.instance_type=m1.tiny;project=%s' % ALPHA,
             ('cpu_util',),
             lambda s: s['project_id'] == ALPHA and
             s['resource_metadata'].get('instance_type') == 'm1.tiny'),
    # Not a simple query: counted by keyset paging.
    'json': ('{"or": [{"=": {"project_id": "%s"}}, '
             '{">": {"metadata.memory_mb": 1024}}]}' % BETA, ('cpu_util',),
             lambda s: s['project_id'] == BETA or
             s['resource_metadata'].get('memory_mb', 0) > 1024),
}


class Cloud(object):
    """The simulator and every raw sample given to it."""

    def __init__(self, sim, raws):
        self.sim = sim
        self.raws = {}
        self.add(raws)

    def add(self, raws):
        self.sim.add_samples(raws)
        self.raws.update((r['message_id'], r) for r in raws)


@pytest.fixture
def cloud():
    raws = generate_samples(seed=3, cycles=18, jitter=True)
    with Simulator(samples=[], seed=3) as sim:
        yield Cloud(sim, raws)


def _mappings(mode):
    names = ('all', 'tiny') if mode == 'simple' else tuple(MAPPINGS)
    return {n: (MAPPINGS[n][0], ', '.join(MAPPINGS[n][1])) for n in names}


def _setup(tmp_path, cloud, db_url, mode='complex', lookback='0'):
    conf = harness.configure(tmp_path / 'c.conf', cloud.sim, db_url,
                             _mappings(mode),
                             ceilometer={'query_mode': mode, 'page_size': '25'},
                             export={'lookback': lookback})
    assert export.main(['--config-file', conf, '--once']) == 0
    return conf


def _verify(capsys, conf, *args):
    capsys.readouterr()
    code = verify.main(['--config-file', conf, '--format', 'json'] +
                       list(args))
    out = capsys.readouterr().out
    return code, json.loads(out)


def _hours(listed):
    return {(h['mapping'], h['meter'], h['hour']) for h in listed}


def _hour_text(moment):
    return moment.replace(minute=0, second=0, microsecond=0).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def _touched(cloud, raws, names):
    """The (mapping, meter, hour) the raw samples fall in."""
    found = set()
    for raw in raws:
        for name in names:
            _, meters, belongs = MAPPINGS[name]
            if raw['counter_name'] in meters and belongs(raw):
                found.add((name, raw['counter_name'],
                           _hour_text(raw['timestamp'])))
    return found


def _delete(db_url, ids):
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.delete(schema.samples).where(
                schema.samples.c.message_id.in_(sorted(ids))))
    finally:
        engine.dispose()


def _late_copy(raw, when):
    return dict(raw, message_id=str(uuid.uuid1()), timestamp=when,
                recorded_at=None)


def test_clean_export_verifies_clean_complex(tmp_path, cloud, db_url,
                                             capsys):
    conf = _setup(tmp_path, cloud, db_url)
    assert _verify(capsys, conf) == (0, [])


def test_clean_export_verifies_clean_simple(tmp_path, cloud, make_db_url,
                                            capsys):
    conf = _setup(tmp_path, cloud, make_db_url('sqlite'), mode='simple')
    assert _verify(capsys, conf) == (0, [])
    capsys.readouterr()
    assert verify.main(['--config-file', conf]) == 0
    assert 'no hour differs' in capsys.readouterr().out


def test_random_damage_is_listed_exactly_and_repaired(tmp_path, cloud,
                                                      db_url, capsys):
    conf = _setup(tmp_path, cloud, db_url)
    stored = sorted(harness.exported(db_url))
    base = sorted(cloud.raws.values(), key=lambda r: r['message_id'])

    @settings(max_examples=3, deadline=None, database=None,
              derandomize=True)
    @given(st.integers(0, 2 ** 32), st.integers(0, 6), st.integers(0, 4))
    def check(seed, deletions, lates):
        rng = random.Random(seed)
        gone = rng.sample(stored, deletions)
        late = [_late_copy(raw, START + datetime.timedelta(
            seconds=rng.randrange(3 * 3600)))
            for raw in rng.sample(base, lates)]
        _delete(db_url, gone)
        cloud.add(late)
        damaged = _touched(cloud, [cloud.raws[i] for i in gone] + late,
                           MAPPINGS)
        code, listed = _verify(capsys, conf)
        assert _hours(listed) == damaged
        assert code == (1 if damaged else 0)
        for hour in listed:
            assert hour['api_count'] > hour['db_count']
        assert _verify(capsys, conf, '--repair') == (0, [])
        assert harness.exported(db_url) == harness.expected(
            cloud.sim, ('cpu_util', 'network.incoming.bytes'))
        assert _verify(capsys, conf) == (0, [])

    check()


def test_repair_leaves_the_live_checkpoints_alone(tmp_path, cloud,
                                                  make_db_url, capsys):
    db_url = make_db_url('sqlite')
    conf = _setup(tmp_path, cloud, db_url)
    before = harness.checkpoints(db_url)
    raw = next(r for r in cloud.raws.values()
               if r['counter_name'] == 'cpu_util')
    cloud.add([_late_copy(raw, START + datetime.timedelta(minutes=5))])
    assert _verify(capsys, conf, '--repair') == (0, [])
    after = harness.checkpoints(db_url)
    assert {k: v.last_timestamp for k, v in after.items()} == \
        {k: v.last_timestamp for k, v in before.items()}


def test_a_message_id_held_twice_is_told_apart(tmp_path, cloud, db_url,
                                               capsys):
    conf = _setup(tmp_path, cloud, db_url)
    cpu = sorted((r for r in cloud.raws.values()
                  if r['counter_name'] == 'cpu_util'),
                 key=lambda r: r['timestamp'])
    # The same sample twice, and a second version one hour later (the
    # store keeps that one: its own hour gains it, the first one loses it).
    twice, moved = cpu[3], cpu[10]
    cloud.sim.add_samples([dict(twice), dict(
        moved, timestamp=moved['timestamp'] + HOUR, recorded_at=None)])
    assert export.main(['--config-file', conf, '--once', '--since',
                        START.isoformat(), '--until',
                        (START + 4 * HOUR).isoformat()]) == 0
    assert _verify(capsys, conf) == (0, [])
    capsys.readouterr()
    assert verify.main(['--config-file', conf, '--mapping', 'all']) == 0
    out = capsys.readouterr().out
    assert 'accounted for' in out and 'duplicate' in out
    assert _hour_text(twice['timestamp']) in out


def test_rejected_samples_are_accounted_for(tmp_path, cloud, make_db_url,
                                            capsys):
    raw = next(r for r in cloud.raws.values()
               if r['counter_name'] == 'cpu_util')
    cloud.add([dict(raw, message_id='bad-volume', counter_volume=float('nan'),
                    timestamp=raw['timestamp'] + datetime.timedelta(
                        seconds=1))])
    conf = _setup(tmp_path, cloud, make_db_url('sqlite'))
    code, listed = _verify(capsys, conf, '--mapping', 'all')
    assert (code, listed) == (0, [])
    capsys.readouterr()
    assert verify.main(['--config-file', conf, '--mapping', 'all',
                        '--repair']) == 0
    out = capsys.readouterr().out
    assert 'rejected' in out and not re.search('^repaired:', out, re.M)


def test_verify_and_repair_runs_are_recorded(tmp_path, cloud, make_db_url,
                                             capsys):
    db_url = make_db_url('sqlite')
    conf = _setup(tmp_path, cloud, db_url)
    _delete(db_url, sorted(harness.exported(db_url))[:1])
    assert _verify(capsys, conf, '--repair', '--mapping', 'all') == (0, [])
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.export_runs).where(
            schema.export_runs.c.kind.in_(('verify', 'repair'))).order_by(
            schema.export_runs.c.id)).mappings().all()
    engine.dispose()
    assert [(r['kind'], r['mapping'], r['outcome']) for r in rows] == [
        ('verify', 'all', 'failed'), ('repair', 'all', 'ok')]
    assert 'api' in rows[0]['error'] and rows[1]['samples'] >= 1


@pytest.mark.parametrize('args, needle', [
    (['--since', 'yesterday'], '--since'),
    (['--since', '2024-01-02', '--until', '2024-01-01'], '--until'),
    (['--mapping', 'nope'], 'nope'),
    (['--format', 'xml'], 'format'),
])
def test_usage_errors_exit_2(tmp_path, cloud, make_db_url, args, needle):
    conf = harness.configure(tmp_path / 'c.conf', cloud.sim,
                             make_db_url('sqlite'), _mappings('complex'))
    result = harness.run('ceilometer-export-verify', '--config-file', conf,
                         *args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and 'Traceback' not in result.stderr
    assert result.stdout == ''


def test_a_filter_the_database_cannot_evaluate_exits_2(tmp_path, cloud,
                                                       make_db_url):
    conf = harness.configure(
        tmp_path / 'c.conf', cloud.sim, make_db_url('sqlite'),
        {'sig': ('{"=": {"message_signature": "x"}}', 'cpu_util')})
    result = harness.run('ceilometer-export-verify', '--config-file', conf)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1
    assert '[mapping:sig]' in result.stderr and 'message_signature' in \
        result.stderr


def test_the_daemon_heals_samples_later_than_the_lookback(tmp_path,
                                                          make_db_url):
    db_url = make_db_url('sqlite')
    start = (datetime.datetime.utcnow() - 3 * HOUR).replace(microsecond=0)
    raws = generate_samples(seed=4, cycles=6, start=start,
                            meters=('cpu_util',))
    with Simulator(samples=raws, seed=4) as sim:
        conf = harness.configure(
            tmp_path / 'c.conf', sim, db_url, {'all': ('', 'cpu_util')},
            export={'lookback': '0', 'poll_interval': '1',
                    'verify_interval': '1', 'verify_window': '86400'})
        daemon = harness.start('ceilometer-export', '--config-file', conf,
                               stderr=open(tmp_path / 'log', 'w'))
        try:
            _wait(lambda: len(harness.exported(db_url)) == len(raws))
            late = [_late_copy(raws[0], start + datetime.timedelta(
                minutes=7))]
            sim.add_samples(late)
            _wait(lambda: late[0]['message_id'] in harness.exported(db_url))
            _wait(lambda: _runs(db_url, 'repair'))
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    assert _runs(db_url, 'repair')[0]['outcome'] == 'ok'
    log_text = (tmp_path / 'log').read_text()
    found = re.findall(r'differed \(api (\d+), db (\d+)\): repaired',
                       log_text)
    assert [int(a) - int(d) for a, d in found] == [1], log_text


def _wait(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'condition not met in time'
        time.sleep(0.1)


def _runs(db_url, kind):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(schema.export_runs).where(
                schema.export_runs.c.kind == kind)).mappings().all()
    finally:
        engine.dispose()

"""Several workers share the mappings through tooz on the real Redis."""

import os
import signal
import time

import pytest
import redis

from ceilometer_export import coordination
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import harness

REDIS_URL = os.environ.get('CEILOMETER_EXPORT_TEST_REDIS_URL',
                           'redis://127.0.0.1:6379')
MAPPINGS = {'m%d' % i: ('', meter) for i, meter in enumerate(
    ['cpu_util', 'cpu', 'memory.usage', 'disk.read.bytes', 'instance',
     'network.incoming.bytes', 'image.size', 'storage.objects'])}


@pytest.fixture
def backend_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        reason = 'Redis unreachable at %s: %s' % (REDIS_URL, exc)
        if os.environ.get('CEILOMETER_EXPORT_REQUIRE_DATABASES'):
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL


def test_members_split_the_mappings_without_overlap(backend_url):
    named = [type('M', (), {'name': name})() for name in MAPPINGS]
    first = coordination.Partition(backend_url)
    second = coordination.Partition(backend_url)
    try:
        # Both see each other once their watchers ran.
        mine = [set(m.name for m in p.owned(named))
                for p in (first, second, first)]
        assert mine[0] != set(MAPPINGS) or mine[1] == set()
        owned_first, owned_second = mine[2], mine[1]
        assert owned_first | owned_second == set(MAPPINGS)
        assert not owned_first & owned_second
        assert owned_first and owned_second
    finally:
        second.stop()
    # Once the other member left, one worker owns everything again.
    assert {m.name for m in first.owned(named)} == set(MAPPINGS)
    first.stop()


def test_two_exporters_export_everything_once(tmp_path, make_db_url,
                                              backend_url):
    db_url = make_db_url('postgresql')
    with Simulator(samples=generate_samples(seed=9, cycles=4)) as sim:
        conf = harness.configure(
            tmp_path / 'c.conf', sim, db_url, MAPPINGS,
            coordination={'backend_url': backend_url},
            ceilometer={'page_size': '10'})
        procs = [_start(conf, '--once') for _ in range(2)]
        outputs = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        want = harness.expected(sim, [m for _, m in MAPPINGS.values()])
    assert all('joined coordination group' in out for out in outputs)
    # Whatever the split was, the union is complete, nothing is doubled,
    # and every checkpoint stands at its meter's newest sample.
    assert harness.exported(db_url) == want
    newest = {}
    for sample in want.values():
        meter = sample['counter_name']
        newest[meter] = max(newest.get(meter, ''), sample['timestamp'])
    for (mapping, meter), cp in harness.checkpoints(db_url).items():
        assert cp.last_timestamp.isoformat() == newest[meter]


def test_bad_backend_url_is_a_configuration_error(tmp_path, make_db_url):
    db_url = make_db_url('sqlite')
    with Simulator(samples=[]) as sim:
        conf = harness.write_config(
            tmp_path / 'c.conf', sim, db_url, {'a': ('', 'cpu_util')},
            coordination={'backend_url': 'nosuchdriver://x'})
        harness.run('ceilometer-export-dbsync', '--config-file', conf)
        result = harness.run('ceilometer-export', '--config-file', conf,
                             '--once')
    assert result.returncode == 2
    assert '[coordination] backend_url' in result.stderr


def test_two_daemons_settle_on_disjoint_shares(tmp_path, make_db_url,
                                               backend_url):
    db_url = make_db_url('sqlite')
    with Simulator(samples=generate_samples(seed=9, cycles=2)) as sim:
        conf = harness.configure(
            tmp_path / 'c.conf', sim, db_url, MAPPINGS,
            coordination={'backend_url': backend_url},
            export={'poll_interval': '1'})
        procs = [_start(conf) for _ in range(2)]
        time.sleep(6)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        logs = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    shares = [_last_share(log) for log in logs]
    assert shares[0] and shares[1]
    assert not shares[0] & shares[1]
    assert shares[0] | shares[1] == set(MAPPINGS)


def _start(conf, *args):
    return harness.start('ceilometer-export', '--config-file', conf, *args,
                         stderr=harness.subprocess.PIPE, text=True)


def _last_share(log):
    marker = 'this worker now exports mappings: '
    lines = [line for line in log.splitlines() if marker in line]
    last = lines[-1].split(marker)[1].strip()
    return set() if last == '(none)' else set(last.split(', '))

"""Several workers share the mappings through tooz on the real Redis."""

import os
import signal
import time
import uuid

import pytest
import redis

from ceilometer_export import coordination
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import daemon_harness as dh
from tests.functional import harness

# Seconds before tooz's Redis driver forgets a member that stopped beating.
MEMBERSHIP_TIMEOUT = 5
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
    group = 'test-%s' % uuid.uuid4().hex[:8]
    first = coordination.Partition(backend_url, group)
    second = coordination.Partition(backend_url, group)
    try:
        # Both see each other once their rings were rebuilt from the live
        # members (at most every second): wait for it, never sleep.
        def split():
            mine = [set(m.name for m in p.owned(named))
                    for p in (first, second)]
            return mine if all(mine) else None
        owned_first, owned_second = dh.wait_until(
            split, what='both members owning mappings')
        assert owned_first | owned_second == set(MAPPINGS)
        assert not owned_first & owned_second
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
            coordination={'backend_url': backend_url,
                          'group': 'test-%s' % uuid.uuid4().hex[:8]},
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
        conf = _daemon_conf(tmp_path, sim, db_url, backend_url)
        procs = [_start(conf) for _ in range(2)]
        logs = [dh.LogReader(p) for p in procs]
        try:
            _wait_converged(logs, timeout=30)
        finally:
            _stop(procs)
    assert [p.returncode for p in procs] == [0, 0], [r.text() for r in logs]


def test_shares_converge_after_a_death_and_a_join(tmp_path, make_db_url,
                                                  backend_url):
    """Three workers; one is SIGKILLed (no leave: its heartbeat expires),
    one joins: each time the live shares become disjoint and complete."""
    db_url = make_db_url('sqlite')
    url = backend_url + '?membership_timeout=%d' % MEMBERSHIP_TIMEOUT
    with Simulator(samples=generate_samples(seed=9, cycles=2)) as sim:
        conf = _daemon_conf(tmp_path, sim, db_url, url)
        procs = [_start(conf) for _ in range(3)]
        logs = [dh.LogReader(p) for p in procs]
        try:
            _wait_converged(logs, timeout=30)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(timeout=10)
            killed = time.monotonic()
            _wait_converged(logs[1:], timeout=MEMBERSHIP_TIMEOUT + 15)
            after_death = time.monotonic() - killed
            procs.append(_start(conf))
            logs.append(dh.LogReader(procs[-1]))
            joined = time.monotonic()
            _wait_converged(logs[1:], timeout=30)
            after_join = time.monotonic() - joined
        finally:
            _stop(procs)
    print('converged %.1f s after a SIGKILL (membership timeout %d s), '
          '%.1f s after a join' % (after_death, MEMBERSHIP_TIMEOUT,
                                   after_join))
    assert after_death < MEMBERSHIP_TIMEOUT + 15
    assert [p.returncode for p in procs[1:]] == [0, 0, 0]


def test_deployments_in_distinct_groups_do_not_share(tmp_path, make_db_url,
                                                     backend_url):
    db_url = make_db_url('sqlite')
    with Simulator(samples=generate_samples(seed=9, cycles=2)) as sim:
        procs, logs = [], []
        for group in ('east', 'west'):
            conf = _daemon_conf(tmp_path / group, sim, db_url, backend_url,
                                group=group)
            procs.append(_start(conf))
            logs.append(dh.LogReader(procs[-1]))
        try:
            for log in logs:
                dh.wait_until(lambda: _last_share(log.text()) == set(MAPPINGS),
                              what='every mapping in its own group')
        finally:
            _stop(procs)


def _daemon_conf(directory, sim, db_url, backend_url, group=None):
    directory.mkdir(exist_ok=True)
    coordination = {'backend_url': backend_url}
    if group:
        coordination['group'] = group
    else:
        # A group of its own per test: runs never see each other.
        coordination['group'] = 'test-%s' % uuid.uuid4().hex[:8]
    return harness.configure(directory / 'c.conf', sim, db_url, MAPPINGS,
                             coordination=coordination,
                             export={'poll_interval': '1'})


def _wait_converged(logs, timeout):
    """Until the last logged shares are disjoint and cover MAPPINGS."""
    def converged():
        shares = [_last_share(log.text()) for log in logs]
        if None in shares:
            return False
        union = set().union(*shares)
        return union == set(MAPPINGS) and sum(map(len, shares)) == len(union)
    dh.wait_until(converged, timeout, 'disjoint, complete shares')


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except harness.subprocess.TimeoutExpired:
            proc.kill()


def _start(conf, *args):
    return harness.start('ceilometer-export', '--config-file', conf, *args,
                         stderr=harness.subprocess.PIPE, text=True)


def _last_share(log):
    """The mappings the worker last said it exports (None: not yet)."""
    marker = 'this worker now exports mappings: '
    lines = [line for line in log.splitlines() if marker in line]
    if not lines:
        return None
    last = lines[-1].split(marker)[1].split(' (group of')[0].strip()
    return set() if last == '(none)' else set(last.split(', '))

"""Ceilometer's own HttpPublisher (27.0.0 from PyPI, and 9.0.7) against
the real receiver, into real databases: the database must hold exactly
what was published, field by field."""

import datetime

import pytest

from tests.functional import harness as fharness
from tests.functional.receiver import harness
from tests.functional.receiver import samples


def _stored(db_url):
    found = fharness.exported(db_url)
    received = {k: v.pop('recorded_at') for k, v in found.items()}
    return found, received


def _check_exact(db_url, published, before, after):
    found, received = _stored(db_url)
    assert found == samples.expected(published)
    for stamp in received.values():
        assert before <= datetime.datetime.fromisoformat(stamp) <= after
    # Rollup and dimensions come from the same store path.
    hourly = fharness_count(db_url)
    assert hourly == len(found)


def fharness_count(db_url):
    return sum(r['count'] for r in harness.rows(db_url, 'samples_hourly'))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize('batch', ['True', 'False'])
def test_publisher_27_fills_every_database_exactly(tmp_path, db_url,
                                                   ceilometer_27, batch):
    with harness.running(tmp_path, db_url) as receiver:
        url = receiver.url('/v1/s?batch=%s&timeout=5' % batch)
        before = _now()
        batches = [samples.make(20), samples.make(7, start=20)]
        published, log = harness.publish(ceilometer_27, url, batches)
        after = _now()
        assert 'Status Code' not in log, log
        _check_exact(db_url, published, before, after)
        # Redelivery (the notification agent requeues a message): the
        # same samples again change nothing.
        harness.publish(ceilometer_27, url, [s for s in batches])
        found, _ = _stored(db_url)
        assert found == samples.expected(published)
        assert fharness_count(db_url) == len(published)
        assert receiver.metric('stored') == 2 * len(published)
    # One run row per minute of work: a slow machine may need two.
    runs = harness.rows(db_url, 'export_runs')
    assert {r['kind'] for r in runs} == {'receive'}
    assert sum(r['samples'] for r in runs) == 2 * len(published)
    assert all(r['mapping'] is None and r['outcome'] == 'ok' for r in runs)


def test_publisher_9_0_7(tmp_path, make_db_url, ceilometer_9):
    db_url = make_db_url('postgresql')
    with harness.running(tmp_path, db_url) as receiver:
        before = _now()
        published, log = harness.publish(
            ceilometer_9, receiver.url('/?batch=False'),
            [samples.make(5), samples.make(4, start=5)])
        published2, _ = harness.publish(ceilometer_9, receiver.url(),
                                        [samples.make(6, start=9)])
        assert 'Status Code' not in log, log
        _check_exact(db_url, published + published2, before, _now())


def test_no_auth_and_mapping_selection(tmp_path, make_db_url, ceilometer_27):
    db_url = make_db_url('sqlite')
    mappings = {'small_cpu': ('metadata.flavor.ram=512', 'cpu'),
                'p1_memory': ('{"and": [{"=": {"project_id": "p-1"}}, '
                              '{"=": {"metadata.on": true}}]}',
                              'memory.usage')}
    with harness.running(tmp_path, db_url, mappings=mappings,
                         auth=False) as receiver:
        published, _ = harness.publish(ceilometer_27, receiver.url(user=None),
                                       [samples.make(30)])
        keep = [s for s in published
                if (s['name'] == 'cpu'
                    and s['resource_metadata']['flavor']['ram'] == 512)
                or (s['name'] == 'memory.usage' and s['project_id'] == 'p-1'
                    and s['resource_metadata']['on'] is True)]
        assert 0 < len(keep) < len(published)
        found, _ = _stored(db_url)
        assert found == samples.expected(keep)
        assert receiver.metric('filtered') == len(published) - len(keep)
    # Pushed samples move no checkpoint.
    assert harness.rows(db_url, 'export_checkpoints') == []


def test_wrong_credentials_store_nothing(tmp_path, make_db_url,
                                         ceilometer_27):
    db_url = make_db_url('sqlite')
    with harness.running(tmp_path, db_url) as receiver:
        for user, password in (('ceilometer', 'Wr0ngPass'), ('other', 'x')):
            _, log = harness.publish(
                ceilometer_27, receiver.url(user=user, password=password),
                [samples.make(3)])
            assert 'Status Code: 401' in log
        _, log = harness.publish(ceilometer_27, receiver.url(user=None),
                                 [samples.make(3)])
        assert 'Status Code: 401' in log
        assert receiver.metric('unauthorized') == 3
        assert 'Wr0ngPass' not in receiver.log()
        assert 'pub-s3cret' not in receiver.log()
    for table in ('samples', 'export_rejects', 'export_runs'):
        assert harness.rows(db_url, table) == []


def test_malformed_samples_rejected_rest_stored(tmp_path, make_db_url,
                                                ceilometer_27):
    db_url = make_db_url('postgresql')
    good = samples.make(6)
    bad = samples.make(3, start=6)
    bad[0]['volume'] = float('nan')
    bad[1]['timestamp'] = 'yesterday'
    bad[2]['resource_metadata'] = {'name': 'caf\udce9'}
    with harness.running(tmp_path, db_url) as receiver:
        batch = good[:3] + bad + good[3:]
        published, log = harness.publish(ceilometer_27, receiver.url(),
                                         [batch])
        assert 'Status Code' not in log, log      # answered 2xx
        # Redelivered: still one reject per sample.
        harness.publish(ceilometer_27, receiver.url(), [batch])
    found, _ = _stored(db_url)
    assert found == samples.expected([s for s in published
                                      if s['id'] in {g['id'] for g in good}])
    rejects = {r['message_id']: r for r in
               harness.rows(db_url, 'export_rejects')}
    assert set(rejects) == {b['id'] for b in bad}
    assert rejects[bad[0]['id']]['reason'].startswith('volume:')
    assert rejects[bad[1]['id']]['reason'].startswith('timestamp:')
    assert rejects[bad[2]['id']]['reason'].startswith('unicode:')
    assert all(r['mapping'] is None for r in rejects.values())
    assert '\\udce9' in rejects[bad[2]['id']]['raw']
    assert rejects[bad[0]['id']]['meter'] == bad[0]['name']


def test_database_down_answers_503_and_writes_nothing(tmp_path, private_pg,
                                                      ceilometer_27):
    private_pg.start()
    url = private_pg.url
    with harness.running(tmp_path, url) as rcv:
        first, _ = harness.publish(ceilometer_27, rcv.url(),
                                   [samples.make(5)])
        private_pg.stop()
        lost, log = harness.publish(ceilometer_27, rcv.url(),
                                    [samples.make(5, start=5)])
        assert 'Status Code: 503' in log
        assert rcv.get('/healthcheck') == (503, b'down\n')
        assert rcv.metric('error') == 5
        private_pg.start()
        last, log = harness.publish(ceilometer_27, rcv.url(),
                                    [samples.make(5, start=10)])
        assert 'Status Code' not in log, log
        assert rcv.get('/healthcheck')[0] == 200
    found = {r['message_id'] for r in harness.rows(url, 'samples')}
    assert found == {s['id'] for s in first + last}
    hourly = sum(r['count'] for r in harness.rows(url, 'samples_hourly'))
    assert hourly == 10

"""The backends' page writers (``store/writers.py``).

PostgreSQL writes a first export with COPY straight into ``samples``; a
row of one of its ids that another meter's writer commits meanwhile (the
meters' locks do not cover it) must send the page down the upsert path,
with the version rules and the rollup intact. Every writer stores the
metadata text exactly, whatever it holds."""

import datetime
import threading
import time

import sqlalchemy as sa

from ceilometer_export.store import schema
from ceilometer_export.store import Store
from tests.functional.property import test_rollup

T0 = datetime.datetime(2024, 5, 1, 10, 30)


def _row(message_id, meter, timestamp, volume):
    return {'message_id': message_id, 'counter_name': meter,
            'counter_type': 'gauge', 'counter_unit': 'x',
            'counter_volume': volume, 'project_id': 'p', 'resource_id': 'r',
            'user_id': None, 'source': 'openstack', 'timestamp': timestamp,
            'recorded_at': None, 'resource_metadata': {'flavor': 'm1'}}


def _wait_blocked(engine, deadline=30):
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND wait_event_type = "
                    "'Lock'")
    end = time.monotonic() + deadline
    with engine.connect() as conn:
        while time.monotonic() < end:
            if conn.execute(query).scalar():
                return
            time.sleep(0.05)
    raise AssertionError('the page write never waited for the other row')


def test_copy_falls_back_to_the_upsert_on_an_id_committed_meanwhile(
        make_db_url):
    url = make_db_url('postgresql')
    store = Store(url)
    store.upgrade()
    page = [_row('m%d' % i, 'cpu', T0 + datetime.timedelta(minutes=i), 1.0)
            for i in range(5)]
    other = sa.create_engine(url)
    try:
        with other.connect() as conn:
            # Not committed: invisible to the page's check for stored ids,
            # in the way of its COPY.
            conn.execute(sa.insert(schema.samples), [dict(
                _row('m2', 'disk', T0 - datetime.timedelta(hours=2), 7.0),
                dimension_set_id=None)])
            result = {}
            writer = threading.Thread(target=lambda: result.update(
                new=store.write_page('test', 'cpu', page, fingerprint='f')))
            writer.start()
            _wait_blocked(other)
            conn.commit()
        writer.join(60)
        assert not writer.is_alive()
        assert result['new'] == 5
        stored = {r['message_id']: r for r in test_rollup._stored(store)}
        # The page's version is the later one: it replaced the other.
        assert set(stored) == {r['message_id'] for r in page}
        assert stored['m2']['counter_name'] == 'cpu'
        assert test_rollup._rollup(store) == test_rollup._expected(
            stored.values())
    finally:
        other.dispose()
        store.close()


def test_metadata_text_with_every_escape_is_stored_exactly(db_url):
    """Each backend's writer encodes the metadata JSON its own way (COPY
    text escapes, pre-escaped literals for PyMySQL): quotes, backslashes,
    tabs, newlines and non-ASCII come back as they were, on the first
    write (PostgreSQL: COPY) and on the upsert of a changed version."""
    store = Store(db_url)
    store.upgrade()
    odd = {'q': 'it\'s "quoted"', 'b': 'back\\slash \\N \\t', 'w': 'tab\t'
           'nl\nret\r', 'u': '\u00e9t\u00e9 \u2603', 'e': ''}
    try:
        first = [_row('x%d' % i, 'cpu', T0 + datetime.timedelta(minutes=i),
                      1.0) for i in range(3)]
        first[1]['resource_metadata'] = dict(odd)
        store.write_page('test', 'cpu', first, fingerprint='f')
        again = [dict(r, resource_metadata=dict(odd, n=r['message_id']),
                      timestamp=r['timestamp'] + datetime.timedelta(
                          seconds=1)) for r in first]
        stored = {r['message_id']: r for r in test_rollup._stored(store)}
        assert stored['x1']['resource_metadata'] == odd
        store.write_page('test', 'cpu', again, fingerprint='f')
        stored = {r['message_id']: r for r in test_rollup._stored(store)}
        for row in again:
            assert stored[row['message_id']]['resource_metadata'] == \
                row['resource_metadata']
    finally:
        store.close()

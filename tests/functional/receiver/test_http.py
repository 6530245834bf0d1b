"""The receiver's HTTP answers that no publisher exercises: bodies that
are not sample lists, size limits, healthcheck, methods."""

import json

from tests.functional.receiver import harness


def test_bad_bodies_limits_and_healthcheck(tmp_path, make_db_url):
    db_url = make_db_url('sqlite')
    with harness.running(tmp_path, db_url, max_body_bytes='2000') as rcv:
        assert rcv.get('/healthcheck') == (200, b'up\n')
        assert rcv.get('/metrics')[0] == 200
        assert rcv.get('/anything')[0] == 405
        status, body = rcv.post(b'[{"name": "cpu", ')
        assert status == 400 and b'not JSON' in body
        assert rcv.post(b'42')[0] == 400
        assert rcv.post(b'x' * 2001)[0] == 413
        assert rcv.post(b'[]') == (200, json.dumps(
            {'stored': 0, 'rejected': 0, 'filtered': 0}).encode())
        assert rcv.post(b'[]', auth=False)[0] == 401
        assert rcv.metric('rejected') == 3
    rejects = harness.rows(db_url, 'export_rejects')
    assert sorted(r['raw'] for r in rejects) == sorted(
        [json.dumps('[{"name": "cpu", '), json.dumps('42')])
    assert all(r['reason'].startswith('other: request body')
               for r in rejects)
    assert harness.rows(db_url, 'samples') == []

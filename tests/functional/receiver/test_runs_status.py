"""What the receiver tells about itself: /metrics against the database,
export_runs rows of kind ``receive``, and ceilometer-export-status."""

import json

import pytest

from tests.functional import harness as fharness
from tests.functional.receiver import harness
from tests.functional.receiver import samples


@pytest.mark.parametrize('backend', ['postgresql', 'sqlite'])
def test_metrics_runs_and_status_match_the_database(tmp_path, make_db_url,
                                                    backend):
    db_url = make_db_url(backend)
    # cpu and memory.usage kept, network.incoming.bytes filtered.
    mappings = {'a': ('', 'cpu, memory.usage')}
    with harness.running(tmp_path, db_url, mappings=mappings) as rcv:
        batch = samples.make(12)
        batch[0]['volume'] = 'NaN?'          # a cpu sample, rejected
        assert rcv.post(json.dumps(batch).encode())[0] == 200
        assert rcv.post(json.dumps(samples.make(3, start=12)).encode(),
                        auth=False)[0] == 401
        assert rcv.post(b'{"not": "a sample"')[0] == 400
        counts = {o: rcv.metric(o) for o in ('stored', 'filtered',
                                             'rejected', 'unauthorized')}
    stored = harness.rows(db_url, 'samples')
    rejects = harness.rows(db_url, 'export_rejects')
    kept = [s for s in batch[1:] if s['name'] != 'network.incoming.bytes']
    assert {r['message_id'] for r in stored} == {s['id'] for s in kept}
    assert counts['stored'] == len(stored)
    assert counts['rejected'] == len(rejects) == 2   # the sample, the body
    assert counts['filtered'] == len(batch) - 1 - len(kept)
    assert counts['unauthorized'] == 1
    runs = harness.rows(db_url, 'export_runs')
    assert runs and {r['kind'] for r in runs} == {'receive'}
    assert sum(r['samples'] for r in runs) == len(stored)
    assert sum(r['rejects'] for r in runs) == len(rejects)
    assert {r['mapping'] for r in runs} == {None}

    result = fharness.run('ceilometer-export-status', '--config-file',
                          rcv.conf, '--format', 'json')
    assert result.returncode == 0, result.stderr
    pushed = [r for r in json.loads(result.stdout) if r['mapping'] is None]
    by_meter = {r['meter']: r for r in pushed}
    assert by_meter['*']['worker'] == runs[-1]['worker']
    assert by_meter['*']['samples_exported'] == runs[-1]['samples']
    for meter in ('cpu', 'memory.usage'):
        mine = [s for s in stored if s['counter_name'] == meter]
        assert by_meter[meter]['samples_exported'] == len(mine)
        newest = max(s['timestamp'] for s in mine)
        assert by_meter[meter]['newest_sample'] == newest.isoformat() + 'Z'
    assert by_meter['cpu']['rejects'] == 1
    assert 'network.incoming.bytes' not in by_meter
    table = fharness.run('ceilometer-export-status', '--config-file',
                         rcv.conf)
    assert table.returncode == 0
    assert 'pushed to ceilometer-export-receiver' in table.stdout
    assert 'memory.usage' in table.stdout.split('pushed to')[1]

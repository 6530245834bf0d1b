"""Pulled or pushed, one sample gives one row: the same samples exported
from the simulator's v2 API and published by ceilometer 27.0.0's
HttpPublisher to the receiver leave identical tables."""

import sqlalchemy as sa

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from tests.functional import harness as fharness
from tests.functional.receiver import harness

# The nested metadata of a real cloud: lists of dicts, None, booleans,
# ints and floats, dotted and colon keys.
_SEED, _CYCLES = 5, 3


def _sample_kwargs(raw):
    return {'name': raw['counter_name'], 'type': raw['counter_type'],
            'unit': raw['counter_unit'], 'volume': raw['counter_volume'],
            'user_id': raw['user_id'], 'project_id': raw['project_id'],
            'resource_id': raw['resource_id'],
            'timestamp': raw['timestamp'].isoformat(),
            'resource_metadata': raw['resource_metadata'],
            'source': raw['source'], 'id': raw['message_id']}


def _rounded(row):
    # SQL SUM over doubles depends on the order rows are scanned in: the
    # rollup's sums agree to 12 significant digits, not to the last bit
    # (even recomputed twice on one database).
    return ['%.12g' % v if isinstance(v, float) else v for v in row]


def _tables(db_url):
    engine = sa.create_engine(db_url)
    out = {}
    try:
        with engine.connect() as conn:
            for table, drop in ((schema.samples, {'recorded_at'}),
                                (schema.dimensions, set()),
                                (schema.samples_hourly, {'id'})):
                cols = [c for c in table.c if c.name not in drop]
                out[table.name] = sorted(
                    (tuple(_rounded(r) if table is schema.samples_hourly
                           else r) for r in conn.execute(
                        sa.select(*cols))), key=repr)
    finally:
        engine.dispose()
    return out


def test_pulled_and_pushed_samples_give_identical_rows(tmp_path, make_db_url,
                                                       ceilometer_27):
    raw = generate_samples(seed=_SEED, cycles=_CYCLES)
    pulled_db, pushed_db = make_db_url('postgresql'), make_db_url('postgresql')
    with Simulator(samples=raw) as sim:
        conf = fharness.configure(tmp_path / 'export.conf', sim, pulled_db,
                                  {'all': ('', '*')})
        result = fharness.run('ceilometer-export', '--config-file', conf,
                              '--once')
        assert result.returncode == 0, result.stderr
    with harness.running(tmp_path, pushed_db) as receiver:
        batches = [[_sample_kwargs(s) for s in raw[i:i + 50]]
                   for i in range(0, len(raw), 50)]
        _, log = harness.publish(ceilometer_27, receiver.url(), batches)
        assert 'Status Code' not in log, log
    pulled, pushed = _tables(pulled_db), _tables(pushed_db)
    assert len(pulled['samples']) == len(raw)
    assert pulled['dimensions'] and pulled['samples_hourly']
    assert pushed == pulled

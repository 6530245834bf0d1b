"""query.match against the simulator's model of the SQL driver: the same
filters select the same samples (a differential test on generated data),
plus the documented rules spelled out."""

import json
import random

import pytest

from ceilometer_export import mappings
from ceilometer_export.query import match
from ceilometer_export.simulator import complex_eval
from ceilometer_export.simulator import complex_query
from ceilometer_export.simulator import model

_KEYS = ('flavor', 'ram', 'ratio', 'on', 'nothing', 'tags')


def _metadata(rng):
    pick = {
        'flavor': lambda: rng.choice(['m1.small', 'm1.large', '2048']),
        'ram': lambda: rng.choice([512, 2048, 4096]),
        'ratio': lambda: rng.choice([0.5, 1.0, 2048.0]),
        'on': lambda: rng.choice([True, False]),
        'nothing': lambda: None,
        'tags': lambda: rng.choice([['a', 1], []]),
    }
    meta = {k: pick[k]() for k in _KEYS if rng.random() < 0.7}
    if rng.random() < 0.5:
        meta['image'] = {'name': rng.choice(['cirros', 'ubuntu']),
                         'size': rng.choice([1, 2])}
    return meta


def _record(rng, seq):
    rec = model.Record()
    rec.seq = seq
    rec.message_id = 'm%03d' % seq
    rec.meter = model.Meter('cpu', rng.choice(['gauge', 'delta']),
                            rng.choice(['ns', '%']), 0)
    rec.volume = rng.choice([0.0, 1.5, 100.0])
    rec.user_id = rng.choice(['u1', 'u2', None])
    rec.project_id = rng.choice(['p1', 'p2', None])
    rec.resource_id = rng.choice(['r1', 'r2'])
    rec.source = 'openstack'
    rec.meta = model.MetaSet(_metadata(rng))
    return rec


def _subject(rec):
    columns = {'counter_name': rec.meter.name,
               'counter_type': rec.meter.type,
               'counter_unit': rec.meter.unit,
               'counter_volume': rec.volume, 'user_id': rec.user_id,
               'project_id': rec.project_id,
               'resource_id': rec.resource_id, 'source': rec.source,
               'message_id': rec.message_id, 'message_signature': None}
    return match.Subject(columns, rec.meta.raw)


_FIELDS = {
    'project_id': ['p1', 'p2', 'None'], 'user': ['u1', 'u2'],
    'resource_id': ['r1', 'r2'], 'type': ['gauge', 'delta'],
    'volume': [0, 1.5, 100, '1.5'], 'metadata.flavor': ['m1.small', 2048,
                                                        '2048'],
    'metadata.ram': [512, 2048, 2048.0, '512'],
    'metadata.ratio': [0.5, 2048.0, 1], 'metadata.on': [True, False, 1],
    'metadata.image.name': ['cirros', 'ubuntu'],
    'metadata.image.size': [1, 2], 'metadata.tags[1]': [1, 'a'],
    'metadata.tags[0]': ['a'], 'metadata.missing': ['x', 1],
}
_OPS = ['=', '!=', '<', '<=', '>', '>=', '=~']


def _leaf(rng):
    field = rng.choice(sorted(_FIELDS))
    if rng.random() < 0.1 and not field.startswith('metadata.'):
        return {'in': {field: rng.sample(_FIELDS[field], 2)}}
    op = rng.choice(_OPS)
    value = rng.choice(_FIELDS[field])
    if op == '=~':
        value = str(value)[:2]
    return {op: {field: value}}


def _expr(rng, depth=0):
    roll = rng.random()
    if depth > 2 or roll < 0.45:
        return _leaf(rng)
    if roll < 0.6:
        return {'not': _expr(rng, depth + 1)}
    return {rng.choice(['and', 'or']): [_expr(rng, depth + 1)
                                        for _ in range(rng.randint(2, 3))]}


def test_selects_what_the_simulated_sql_driver_selects():
    rng = random.Random(20261201)
    records = [_record(rng, i) for i in range(40)]
    subjects = [_subject(r) for r in records]
    compared = selected = 0
    for _ in range(400):
        expr = _expr(rng)
        server = complex_eval.compile_filter(
            complex_query.parse_filter(json.dumps(expr), None))
        ours = match.compile_filter(expr)
        want = [r.message_id for r in records if server(r)]
        got = [s.columns['message_id'] for s in subjects if ours(s)]
        assert got == want, expr
        compared += 1
        selected += len(got)
    # The generator must exercise both outcomes, or it proves nothing.
    assert compared == 400 and 0 < selected < 400 * len(records)


def _one(metadata, **columns):
    base = {'project_id': 'p1', 'user_id': 'u1', 'resource_id': 'r1',
            'source': 'openstack', 'counter_volume': 1.0}
    base.update(columns)
    return match.Subject(base, metadata)


@pytest.mark.parametrize('query, selected', [
    ('metadata.ram=2048', True),            # untyped: a number
    ('metadata.ram=string::2048', False),   # a string: the text table
    ("metadata.name='2048'", True),
    ('metadata.name=2048', False),
    ('metadata.on=True', True),
    ('metadata.on=1', False),               # bool is not an int there
    ('metadata.nested.deep=x', True),
    ('metadata.missing!=x', False),         # NULL: unknown, not true
    ('user_id!=u2', True),
    ('project_id=p1;metadata.ram>=1024', True),
])
def test_cli_queries_typed_as_the_server_types_them(query, selected):
    subject = _one({'ram': 2048, 'name': '2048', 'on': True,
                    'nested': {'deep': 'x'}})
    mapping = mappings.parse_mapping('m', {'query': query, 'meters': 'cpu'})
    assert bool(match.Selector([mapping]).selecting('cpu', subject)) \
        is selected


def test_null_column_is_unknown_under_not():
    subject = _one({}, user_id=None)
    test = match.compile_filter({'not': {'=': {'user_id': 'u1'}}})
    assert not test(subject)
    assert match.compile_filter({'not': {'=': {'project_id': 'p2'}}})(
        subject)


def test_meters_and_discovery():
    listed = mappings.parse_mapping('a', {'query': '', 'meters': 'cpu'})
    every = mappings.parse_mapping('b', {'query': 'project_id=p2',
                                         'meters': '*'})
    selector = match.Selector([listed, every])
    subject = _one({})
    assert selector.selecting('cpu', subject) == ['a']
    assert selector.selecting('disk', subject) == []
    assert selector.may_select('disk')
    assert not match.Selector([listed]).may_select('disk')


def test_invalid_regex_names_the_mapping():
    bad = mappings.parse_mapping('rx', {'query': '{"=~": {"source": "("}}',
                                        'meters': '*'})
    with pytest.raises(ValueError, match=r'\[mapping:rx\] query: invalid'):
        match.Selector([bad])

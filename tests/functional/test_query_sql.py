"""Differential: a mapping's filter evaluated in SQL (query/sql.py) selects
exactly the samples the simulator's complex-query evaluation selects, on
every backend, for random filters over one fixed set of samples.

The rows are the exporter's own rows of the API's answer (flattened,
string metadata), so the SQL side sees what a real database holds.
Metadata keys have one type each, as a cloud's pollsters give them.
Comparisons the stored text cannot decide (query/sql.py: a query value of
another type than a key's values, against strings that read as numbers)
are not generated; everything else is: every operator, not/and/or,
absent keys, None values, NULL columns, odd keys and non-ASCII text.
"""

import datetime
import json
import random

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import sqlalchemy as sa

from ceilometer_export.query import dialects
from ceilometer_export.query import parse_filter
from ceilometer_export.query import sql as query_sql
from ceilometer_export.simulator import complex_eval
from ceilometer_export.simulator import complex_query
from ceilometer_export.simulator import model
from ceilometer_export.simulator import store as sim_store
from ceilometer_export.source import samples as source_samples
from ceilometer_export.store import schema
from ceilometer_export.store import Store

TEXTS = ('m1.small', 'm1.tiny', 'M1.small', 'caf\u00e9', '\U0001f600', 'a b',
         'a', '', 'active', 'None-ish')
NUMERIC_TEXTS = ('1', '42', '007', '1.5', '-3', 'True')
INTS = (-3, 0, 1, 2, 42, 512, 2048, 10 ** 12)
FLOATS = (-2.5, 0.0, 0.5, 1.25, 42.0, 1e20, 3.0e-7)
# key -> (type of its values, values); a sample may lack any key.
SCHEMA = {
    'flavor': ('text', TEXTS),
    'image.id': ('text', TEXTS),
    'image.meta.os': ('text', TEXTS),
    'we"ird$key': ('text', TEXTS),
    'kernel_id': ('text', (None, 'k1', 'k2')),
    'code': ('numeric_text', NUMERIC_TEXTS),
    'ram': ('int', INTS),
    'ratio': ('float', FLOATS),
    'enabled': ('bool', (True, False)),
}
COLUMNS = {
    'project_id': ('p1', 'p2', 'P1', 'caf\u00e9', None),
    'user_id': ('u1', 'u2', None),
    'resource_id': ('r1', 'r2', 'r3', 'r10'),
    'source': ('openstack', 'other'),
}
METER = 'cpu_util'


def _nest(flat):
    """{'image.meta.os': v} -> {'image': {'meta': {'os': v}}}."""
    nested = {}
    for key, value in flat.items():
        parts = key.split('.') if key.startswith('image') else [key]
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def _raw_samples(count=300, seed=11):
    rng = random.Random(seed)
    start = datetime.datetime(2024, 1, 1)
    raws = []
    for index in range(count):
        meta = {key: rng.choice(values) for key, (_, values) in SCHEMA.items()
                if rng.random() < 0.8}
        meta['tags'] = ['x', index % 3]    # a list: present, never queried
        raw = {'message_id': 'm%04d' % index, 'counter_name': METER,
               'counter_type': rng.choice(('gauge', 'delta')),
               'counter_unit': '%', 'timestamp': start + datetime.timedelta(
                   seconds=index),
               'counter_volume': rng.choice(FLOATS + (7.0, 8.5)),
               'resource_metadata': _nest(meta)}
        raw.update((k, rng.choice(v)) for k, v in COLUMNS.items())
        raws.append(raw)
    return raws


def _records():
    return sim_store.SampleStore(seed=3).add(_raw_samples())


def _load(db_url, records):
    store = Store(db_url)
    store.upgrade()
    rows = [dict(source_samples.from_sample(
        json.loads(json.dumps(model.new_sample(rec))), METER),
        dimension_set_id=None) for rec in records]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.samples), rows)
    return store


# -- random filters ---------------------------------------------------------

OPS = ('=', '!=', '<', '<=', '>', '>=')
PATTERNS = ('^m1', 'small$', '1', 'caf', '^$')


def _typed_values(kind):
    """Query values whose comparison the stored text decides exactly."""
    numbers = st.sampled_from(INTS) | st.sampled_from(FLOATS) | st.booleans()
    if kind == 'text':
        return st.sampled_from(TEXTS + ('zzz', 'None')) | numbers
    if kind == 'numeric_text':
        return st.sampled_from(NUMERIC_TEXTS + ('2', 'abc'))
    return numbers | st.integers(-5, 5) | st.floats(-3, 3, width=16)


@st.composite
def metadata_leaf(draw):
    key = draw(st.sampled_from(sorted(SCHEMA) + ['absent']))
    kind = SCHEMA.get(key, ('text',))[0]
    if kind in ('text', 'numeric_text') and draw(st.booleans()) \
            and draw(st.booleans()):
        return {'=~': {'metadata.' + key: draw(st.sampled_from(PATTERNS))}}
    value = draw(_typed_values(kind))
    return {draw(st.sampled_from(OPS)): {'metadata.' + key: value}}


@st.composite
def column_leaf(draw):
    field = draw(st.sampled_from(sorted(COLUMNS) + ['counter_type']))
    values = COLUMNS.get(field, ('gauge', 'delta'))
    values = [v for v in values if v is not None]
    value = draw(st.sampled_from(values + ['r', 'zz']))
    choice = draw(st.integers(0, 7))
    if choice == 6:
        return {'in': {field: draw(st.lists(st.sampled_from(values[:3]),
                                            min_size=1, max_size=3))}}
    if choice == 7:
        return {'=~': {field: draw(st.sampled_from(('^r1', '1', '^p')))}}
    return {OPS[choice]: {field: value}}


@st.composite
def volume_leaf(draw):
    value = draw(st.sampled_from(FLOATS + (7, 8.5, True)))
    return {draw(st.sampled_from(OPS)): {'counter_volume': value}}


leaves = metadata_leaf() | column_leaf() | volume_leaf()
filters = st.recursive(leaves, lambda children: (
    st.builds(lambda op, items: {op: items}, st.sampled_from(('and', 'or')),
              st.lists(children, min_size=2, max_size=3))
    | st.builds(lambda child: {'not': child}, children)), max_leaves=6)


def _simulator_selection(records, text):
    test = complex_eval.compile_filter(
        complex_query.parse_filter(text, None))
    return {rec.message_id for rec in records if test(rec) is True}


def _sql_selection(store, text):
    tree = parse_filter(text).filter_tree()
    sql = dialects.Sql(store.engine.dialect)
    cond = query_sql.condition(tree, schema.samples, sql)
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(schema.samples.c.message_id)
                                .where(cond)).scalars())


def test_sql_selects_what_the_simulator_selects(db_url):
    records = _records()
    store = _load(db_url, records)
    hits = []

    @settings(max_examples=60, deadline=None, database=None,
              derandomize=True)
    @given(filters)
    def check(tree):
        text = json.dumps(tree)
        expected = _simulator_selection(records, text)
        assert _sql_selection(store, text) == expected, text
        hits.append(len(expected))

    try:
        check()
    finally:
        store.close()
    # The generated filters must select something, and not everything.
    assert any(0 < n < len(records) for n in hits)


def test_cli_queries_typed_like_the_server(db_url):
    records = _records()
    store = _load(db_url, records)
    try:
        for text in ('metadata.ram=2048', 'metadata.ram>=512;project=p1',
                     'metadata.code=string::1', 'metadata.code=007',
                     'metadata.enabled=True', "metadata.flavor='m1.small'",
                     'metadata.image.meta.os=caf\u00e9',
                     'metadata.ratio<1', 'metadata.ratio<float::1',
                     'metadata.kernel_id!=k1', 'resource=r10'):
            tree = parse_filter(text).filter_tree()
            expected = _simulator_selection(records, json.dumps(tree))
            got = _sql_selection(store, json.dumps(tree))
            assert got == expected, text
    finally:
        store.close()

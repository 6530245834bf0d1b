"""Random clouds, mappings and scenarios (hypothesis strategies), and the
oracle: what the mappings select, by the simulator's own evaluation of
the query (its simple-query matcher for the CLI grammar, its complex-query
evaluator for JSON filters), over the records it serves."""

import datetime
import json

from hypothesis import strategies as st

from ceilometer_export import query
from ceilometer_export.simulator import complex_eval
from ceilometer_export.simulator import complex_query
from ceilometer_export.simulator import model
from ceilometer_export.simulator import simple_query

T0 = datetime.datetime(2024, 5, 1)
CYCLE = datetime.timedelta(seconds=600)
PROJECTS = ('p-a', 'p-b', 'p-c')
USERS = ('u-1', 'u-2')
RESOURCES = ('r-1', 'r-2', 'r-3', 'r-4')
METERS = ('cpu_util', 'disk.read.bytes', 'net.in')
FLAVORS = ('m1.tiny', 'm1.small')
# Metadata shapes: flat strings, typed numbers and booleans, nested
# objects and lists (the API flattens them), non-ASCII text.
METADATA = st.fixed_dictionaries({}, optional={
    'flavor': st.sampled_from(FLAVORS),
    'memory_mb': st.sampled_from([512, 2048]),
    'flag': st.booleans(),
    'nested': st.just({'a': {'b': 1}, 'c': 'x'}),
    'list': st.just(['x', 1]),
    'name': st.sampled_from(['vm-\u00fc', 'vm 2']),
})

_SAMPLE = st.fixed_dictionaries({
    'counter_name': st.sampled_from(METERS),
    'resource_id': st.sampled_from(RESOURCES),
    'project_id': st.sampled_from(PROJECTS),
    'user_id': st.sampled_from(USERS),
    'counter_volume': st.integers(0, 100).map(float),
    'resource_metadata': METADATA,
    # Another copy of an earlier sample's message_id (Ceilometer does not
    # enforce uniqueness).
    'repeat': st.one_of(st.none(), st.integers(0, 1000)),
})
# One polling cycle: every sample shares its timestamp (ties larger than
# small pages).
CYCLES = st.lists(st.lists(_SAMPLE, min_size=1, max_size=8),
                  min_size=1, max_size=4)


def raw_samples(cycles, start, counter, earlier):
    """Raw add_samples dicts; ``earlier`` collects them for repeats."""
    raws = []
    for index, cycle in enumerate(cycles):
        timestamp = start + CYCLE * index
        for spec in cycle:
            counter[0] += 1
            message_id = 'msg-%05d' % counter[0]
            raw = {k: v for k, v in spec.items() if k != 'repeat'}
            if spec['repeat'] is not None and earlier:
                # Another version of the same sample (the pipeline
                # published it twice): same id, meter and resource.
                twin = earlier[spec['repeat'] % len(earlier)]
                raw.update((k, twin[k]) for k in (
                    'message_id', 'counter_name', 'resource_id'))
                message_id = twin['message_id']
            raw.update(message_id=message_id, counter_type='gauge',
                       counter_unit='%', source='openstack',
                       timestamp=timestamp)
            raws.append(raw)
            earlier.append(raw)
    return raws


# -- mappings ------------------------------------------------------------------

_CLI_ITEMS = st.sampled_from([
    'project_id=p-a', 'project=p-b', 'user_id=u-1', 'resource_id=r-2',
    'metadata.flavor=m1.small', "metadata.flavor='m1.tiny'",
    'metadata.memory_mb=2048', 'metadata.memory_mb=string::2048',
    'metadata.memory_mb=integer::512', 'metadata.flag=True',
    'metadata.flag=boolean::false', 'metadata.nested.a.b=1',
    'metadata.nested.c=x',
])
_JSON_LEAVES = st.sampled_from([
    {'=': {'project_id': 'p-a'}}, {'!=': {'project_id': 'p-c'}},
    {'=': {'user': 'u-2'}}, {'>=': {'counter_volume': 50}},
    {'<': {'volume': 30.5}}, {'=': {'metadata.flavor': 'm1.tiny'}},
    {'=': {'metadata.memory_mb': 2048}}, {'=': {'metadata.flag': True}},
    {'in': {'resource_id': ['r-1', 'r-3']}},
])
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.one_of(
    st.builds(lambda xs: {'and': xs},
              st.lists(inner, min_size=2, max_size=3)),
    st.builds(lambda xs: {'or': xs},
              st.lists(inner, min_size=2, max_size=3))), max_leaves=4)


def cli_queries():
    return st.lists(_CLI_ITEMS, max_size=2, unique_by=lambda t: t.split(
        '=')[0].replace('project_id', 'project')).map(';'.join)


def mapping_queries(mode):
    if mode == 'simple':
        return cli_queries()
    return st.one_of(cli_queries(), _JSON.map(json.dumps))


def meter_lists():
    # 'absent.meter' has no sample: one empty read, no checkpoint row.
    return st.one_of(st.just('*'), st.lists(
        st.sampled_from(METERS + ('absent.meter',)), min_size=1, max_size=3,
        unique=True).map(', '.join))


def mappings(mode):
    """1-3 mappings, which may overlap."""
    one = st.tuples(mapping_queries(mode), meter_lists())
    return st.lists(one, min_size=1, max_size=3).map(
        lambda items: {'m%d' % i: item for i, item in enumerate(items)})


# -- scenarios -------------------------------------------------------------------

# Where appended samples fall: new cycles after the newest sample, or late,
# behind it by less or more than the lookback.
APPEND = st.tuples(st.just('append'), st.sampled_from(
    ['fresh', 'inside', 'outside']), st.lists(_SAMPLE, min_size=1,
                                              max_size=5))
STEP = st.one_of(st.just(('pass',)), APPEND,
                 st.tuples(st.just('crash'), st.integers(1, 3)))
STEPS = st.lists(STEP, max_size=5)


def late_start(where, newest, lookback):
    if where == 'fresh':
        return newest + CYCLE
    if where == 'inside':
        return newest - datetime.timedelta(seconds=lookback // 2)
    return newest - datetime.timedelta(seconds=lookback + 1200)


# -- oracle ------------------------------------------------------------------------

FIELDS = ('message_id', 'counter_name', 'counter_type', 'counter_unit',
          'counter_volume', 'user_id', 'project_id', 'resource_id',
          'source', 'resource_metadata', 'timestamp', 'recorded_at')


def selector(text, meters):
    """function(record) -> selected, as the simulator evaluates the
    mapping's query and meter list."""
    parsed = query.parse_filter(text)
    if parsed.is_json:
        tree = complex_query.parse_filter(text, None)
        test = complex_eval.compile_filter(tree)

        def match(rec):
            return test(rec) is True
    elif text:
        queries = [simple_query.Query(q['field'], q['op'], q['value'],
                                      q['type'] or None)
                   for q in parsed.simple_q()]
        match = simple_query.to_filter(queries,
                                       simple_query.SAMPLE_KEYS).matcher()
    else:
        def match(rec):
            return True
    names = None if meters == '*' else {m.strip() for m in
                                        meters.split(',')}
    return lambda rec: (names is None or rec.meter.name in names) and \
        bool(match(rec))


def render(rec):
    sample = model.old_sample(rec)
    return {k: sample[k] for k in FIELDS}


def records(sim):
    with sim.store.lock:
        return list(sim.store.records(None, descending=False))

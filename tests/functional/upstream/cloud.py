"""The differential suite's cloud, and how two answers are compared."""
import collections
import datetime
import json
import re

from ceilometerclient import exc as cc_exc

from ceilometer_export.simulator import generate_samples

START = datetime.datetime(2024, 1, 1)
CYCLES = 8
PROJECTS = ['p-alpha-0001', 'p-beta-0002', 'p-gamma-0003']
USERS = ['u-alice', 'u-bob', 'u-carol', 'u-erin']
SHARED_RESOURCE = 'res-shared-between-projects'
ELSEWHERE = 'elsewhere.meter'       # newest sample in another project
TYPED_METER = 'typed.meter'
METERS = ['cpu_util', 'network.incoming.bytes', 'image.size', 'instance',
          ELSEWHERE, TYPED_METER]

# (field, op, value, type): every typing rule of a simple metadata query.
TYPED_CASES = [
    ('metadata.count', 'eq', '3', ''), ('metadata.count', 'eq', '3',
                                        'integer'),
    ('metadata.count', 'eq', '3', 'string'),
    ('metadata.count', 'eq', '3.0', ''), ('metadata.count', 'eq', '3',
                                          'float'),
    ('metadata.size', 'eq', '1.5', ''), ('metadata.size', 'eq', '1.5',
                                         'float'),
    ('metadata.flag', 'eq', 'True', ''), ('metadata.flag', 'eq', 'true',
                                          'boolean'),
    ('metadata.flag', 'eq', 'True', 'string'),
    ('metadata.label', 'eq', '2048', ''), ('metadata.label', 'eq', '2048',
                                           'string'),
    ('metadata.label', 'eq', 'abc', ''), ('metadata.nested.level', 'eq', '2',
                                          ''),
    ('metadata.nested.name', 'eq', 'deep', ''),
    ('metadata.count', 'eq', 'x', 'integer'),        # 400 on both
    ('metadata.missing', 'eq', '1', ''),
]


def _sample(n, name, project, user, resource, when, volume, metadata,
            kind='gauge', unit='u'):
    return {'message_id': '%08x-0000-4000-8000-%012x' % (n, n),
            'counter_name': name, 'counter_type': kind, 'counter_unit': unit,
            'counter_volume': volume, 'user_id': user, 'project_id': project,
            'resource_id': resource, 'source': 'openstack',
            'timestamp': when, 'recorded_at': when + datetime.timedelta(
                seconds=1, microseconds=n), 'resource_metadata': metadata}


def _extra():
    out = []
    step = datetime.timedelta(seconds=600)
    for i in range(CYCLES):
        when = START + step * i
        project = PROJECTS[i % 3]
        # ELSEWHERE: p-alpha early, p-beta has the newest sample.
        out.append(_sample(1000 + i, ELSEWHERE,
                           'p-beta-0002' if i == CYCLES - 1 else
                           'p-alpha-0001', 'u-bob', 'res-elsewhere', when,
                           float(i), {'zone': 'a'}))
        for j, meta in enumerate(_typed_metas()):
            out.append(_sample(2000 + 10 * i + j, TYPED_METER, project,
                               USERS[j % 4], SHARED_RESOURCE, when,
                               i + j / 4.0, meta))
    return out


def _typed_metas():
    return [{'count': 3, 'size': 1.5, 'flag': True, 'label': '2048',
             'nested': {'level': 2, 'name': 'deep'}},
            {'count': 4, 'size': 3.0, 'flag': False, 'label': 'abc',
             'nested': {'level': 3}},
            {'count': 3.0, 'size': 1.5, 'flag': 'True', 'label': 2048}]


def samples():
    return generate_samples(seed=3, cycles=CYCLES) + _extra()


class Pair(object):
    """The same requests to the simulator and to the real API."""

    def __init__(self, sim, real, sim_member, real_member):
        self.sim, self.real = sim, real
        self.sim_member, self.real_member = sim_member, real_member

    def both(self, call, member=False):
        clients = ((self.sim_member, self.real_member) if member
                   else (self.sim, self.real))
        sim, real = (_outcome(call, c) for c in clients)
        return known_divergences(sim), known_divergences(real)


_BYTES_REPR = re.compile(r"""(?<![\w'])b'""")
JSONSCHEMA_DETAIL = '\n\nFailed validating'
_REGEXES = re.compile(r"regexes: '([^']*)'")


def known_divergences(answer):
    """An answer with the two known divergences of the real API undone.

    Both sides go through it: it also sorts the field alternatives of a
    jsonschema regex, which the real API joins in a per-process order.

    Both are asserted in test_divergences.py:
    - 9.0.7's recursive_keypairs passes metadata lists through
      decode_unicode, which on Python 3 turns each str into bytes: the repr
      reads "[{b'href': b'...'}]"; the simulator renders the Python 2 text
      "[{'href': '...'}]".
    - A complex query failing its JSON schema: the real faultstring goes on
      with jsonschema's own "Failed validating ..." dump of the schema; the
      simulator gives its first line only.
    """
    if isinstance(answer, (list, tuple)):
        return type(answer)(known_divergences(row) for row in answer)
    if isinstance(answer, dict):
        return {k: _undo(k, v) for k, v in answer.items()}
    return answer


def _undo(key, value):
    if not isinstance(value, str):
        return known_divergences(value)
    if value.startswith('['):
        return _BYTES_REPR.sub("'", value)
    if key == 'faultstring':
        return _REGEXES.sub(lambda m: "regexes: '%s'" % '|'.join(sorted(
            m.group(1).split('|'))), value.split(JSONSCHEMA_DETAIL)[0])
    return value


def _outcome(call, client):
    try:
        return call(client)
    except cc_exc.HTTPException as exc:
        return ('error', exc.code, exc.details)


def query(client, expr, orderby, limit):
    """POST /v2/query/samples, as the samples' dicts."""
    return [s.to_dict() for s in client.query_samples.query(
        filter=json.dumps(expr),
        orderby=json.dumps(orderby) if orderby else None, limit=limit)]


def raw(client, method, url, body=None):
    """(status, JSON body) through the client's session."""
    if method == 'GET':
        resp = client.http_client.get(url, raise_exc=False)
    else:
        resp = client.http_client.post(url, json=body, raise_exc=False)
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, resp.text


def multiset(rows):
    return collections.Counter(json.dumps(r, sort_keys=True) for r in rows)


def is_error(answer):
    return isinstance(answer, tuple)


def assert_alike(sim, real, limit=None):
    """Newest-first lists: equal up to the order within one timestamp.

    When the list may have been cut by the limit, the oldest timestamp's
    group is compared by size only: which of its ties the cut keeps is
    arbitrary on both sides.
    """
    if is_error(sim) or is_error(real):
        assert sim == real
        return
    stamps = [r['timestamp'] for r in sim]
    assert stamps == [r['timestamp'] for r in real]
    assert stamps == sorted(stamps, reverse=True)
    cut = len(sim) == (limit or 100)
    groups = _by_stamp(sim), _by_stamp(real)
    for stamp in groups[0]:
        if cut and stamp == stamps[-1]:
            continue
        assert multiset(groups[0][stamp]) == multiset(groups[1][stamp]), stamp


def _by_stamp(rows):
    groups = collections.defaultdict(list)
    for row in rows:
        groups[row['timestamp']].append(row)
    return groups

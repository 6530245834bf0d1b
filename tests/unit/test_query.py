"""Unit tests for ceilometer_export.query: both grammars (pure logic)."""

import json
import warnings

import pytest

from ceilometer_export.query import MappingError, parse_filter


def q(text):
    return parse_filter(text).simple_q()


def cf(text):
    return parse_filter(text).complex_filter()


def error_of(text, where='query'):
    with pytest.raises(MappingError) as info:
        parse_filter(text, where=where)
    return str(info.value)


def leaf(op, field, value):
    return {op: {field: value}}


# --------------------------------------------------------------------------
# CLI grammar parity with ceilometerclient's cli_to_array
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('resource_id=r1', [('resource_id', 'eq', 'r1', '')]),
    # leftmost split: '=>' and '==' are not operators
    ('metadata.a=>1', [('metadata.a', 'eq', '>1', '')]),
    ('metadata.k==v', [('metadata.k', 'eq', '=v', '')]),
    ('metadata.a<=>1', [('metadata.a', 'le', '>1', '')]),
    ('metadata.a!=1', [('metadata.a', 'ne', '1', '')]),
    ('metadata.a>=1', [('metadata.a', 'ge', '1', '')]),
    ('metadata.a>1', [('metadata.a', 'gt', '1', '')]),
    ('metadata.a<1', [('metadata.a', 'lt', '1', '')]),
    # whitespace around field, value and ';' is stripped
    ('  project_id =  p1 ;  user = u1 ',
     [('project_id', 'eq', 'p1', ''), ('user', 'eq', 'u1', '')]),
    # type prefixes
    ('metadata.x=string::2048', [('metadata.x', 'eq', '2048', 'string')]),
    ('metadata.x=integer::5', [('metadata.x', 'eq', '5', 'integer')]),
    ('metadata.x=float::0.5', [('metadata.x', 'eq', '0.5', 'float')]),
    ('metadata.x=boolean::true', [('metadata.x', 'eq', 'true', 'boolean')]),
    ('metadata.x=datetime::2015-01-01',
     [('metadata.x', 'eq', '2015-01-01', 'datetime')]),
    ('metadata.x=string::a::b', [('metadata.x', 'eq', 'a::b', 'string')]),
    # unknown, upper-case or empty-rest prefixes stay in the value
    ('metadata.x=blob::1', [('metadata.x', 'eq', 'blob::1', '')]),
    ('metadata.x=String::1', [('metadata.x', 'eq', 'String::1', '')]),
    ('metadata.x=string::', [('metadata.x', 'eq', 'string::', '')]),
    # quotes are kept for the server's literal_eval
    ("metadata.status='active'", [('metadata.status', 'eq', "'active'", '')]),
    ('metadata.status="a b"', [('metadata.status', 'eq', '"a b"', '')]),
    ('resource_metadata.flavor.name=m1.small',
     [('resource_metadata.flavor.name', 'eq', 'm1.small', '')]),
])
def test_cli_grammar_split(text, expected):
    query = parse_filter(text)
    got = [(c.field, c.op, c.value, c.type) for c in query.constraints]
    assert got == expected


@pytest.mark.parametrize('text', [
    'resource_id=r1;project=p1',
    ' project_id = p ; metadata.a.b = string::x ',
    'metadata.a=>1', 'metadata.k==v', 'metadata.x=blob::1',
    "metadata.s='active'", 'user_id=integer::7', 'source=datetime::2015',
])
def test_simple_q_equals_real_cli_to_array(text):
    options = pytest.importorskip('ceilometerclient.v2.options')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = options.cli_to_array(text)
    query = parse_filter(text)
    if all(c.op == 'eq' for c in query.constraints):
        assert query.simple_q() == expected
    assert [c.as_q() for c in query.constraints] == expected


def test_simple_q_shape():
    assert q('project=p1;metadata.x=string::5') == [
        {'field': 'project', 'op': 'eq', 'value': 'p1', 'type': ''},
        {'field': 'metadata.x', 'op': 'eq', 'value': '5', 'type': 'string'},
    ]


@pytest.mark.parametrize('text, message', [
    ('project_id', "invalid query 'project_id': missing operator"),
    ('project_id=p1;', "invalid query '': missing operator"),
    ('project_id=p1;;user=u', "invalid query '': missing operator"),
    ('=p1', "invalid query '=p1': missing field"),
    ('  =p1', "invalid query '=p1': missing field"),
    ('project_id=', "invalid query 'project_id=': missing value"),
    ('project_id=   ', "invalid query 'project_id=': missing value"),
])
def test_cli_grammar_errors(text, message):
    assert error_of(text) == 'query: ' + message


def test_messages_show_the_stripped_part():
    assert error_of('project_id=p;  timestamp>1 ').startswith(
        "query: invalid query 'timestamp>1':")


def test_error_is_prefixed_with_where():
    message = error_of('project_id', where='[mapping:web] query')
    assert message == ("[mapping:web] query: invalid query 'project_id': "
                       "missing operator")


@pytest.mark.parametrize('text, why', [
    ('timestamp>2015-01-01', 'start_time'),
    ('timestamp>=2015-01-01', '--since'),
    ('search_offset=10', 'checkpoint'),
    ('meter=cpu', "'meters' option"),
    ('counter_name=cpu', "'meters' option"),
    ('message_id=abc', 'paging'),
    ('recorded_at>2015', 'checkpoint'),
])
def test_cli_refused_fields_say_why(text, why):
    message = error_of(text)
    assert 'cannot be used in a mapping' in message
    assert why in message


@pytest.mark.parametrize('text', [
    'volume=5', 'counter_volume>1', 'Project_id=p', 'metadata=x',
    'foo=bar', 'type=gauge',
])
def test_cli_unknown_fields(text):
    assert 'unknown field' in error_of(text)


@pytest.mark.parametrize('text', ['metadata.=x', 'resource_metadata.=x',
                                  'metadata.a b=x'])
def test_cli_bad_metadata_key(text):
    assert 'metadata key' in error_of(text)


def test_cli_field_given_twice_with_eq_is_refused():
    message = error_of('project=a;project_id=b')
    assert "'project_id=b'" in message and "'project=a'" in message
    assert 'metadata.x' in error_of('metadata.x=1;resource_metadata.x=2')


def test_cli_range_on_one_field_is_allowed():
    assert cf('metadata.mem>1;metadata.mem<5') == {'and': [
        leaf('>', 'metadata.mem', 1), leaf('<', 'metadata.mem', 5)]}


# --------------------------------------------------------------------------
# Conversion to a complex filter (values typed as the server types them)
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, value', [
    ('metadata.memory_mb=2048', 2048),
    ('metadata.ratio=0.5', 0.5),
    ('metadata.neg=-3', -3),
    ("metadata.name='abc'", 'abc'),
    ('metadata.name="abc"', 'abc'),
    ('metadata.x=string::2048', '2048'),
    ('metadata.flag=True', True),
    ('metadata.flag=true', 'true'),          # not a Python literal: raw
    ('metadata.name=abc', 'abc'),
    ('metadata.list=[1, 2]', '[1, 2]'),      # non-scalar literal: raw
    ('metadata.none=None', 'None'),
    ('metadata.x=blob::1', 'blob::1'),
    ('metadata.x="\\d"', '\\d'),            # evaluated, without a warning
    ('metadata.x=integer::2048', 2048),
    ('metadata.x=integer:: 12', 12),
    ('metadata.x=float::2048', 2048.0),
    ('metadata.x=boolean::YES', True),
    ('metadata.x=boolean::off', False),
    ('metadata.x=boolean::0', False),
    ('metadata.x=boolean::T', True),
    ("metadata.x=string::'q'", "'q'"),
    ('metadata.x=datetime::2015-01-01T00:00:00', '2015-01-01T00:00:00'),
    ('project_id=123', '123'),
    ('project_id=integer::123', '123'),
    ('source=True', 'True'),
])
def test_complex_filter_typing(text, value):
    field = text.split('=', 1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        got = cf(text)
    assert got == leaf('=', field, value)
    assert type(got['='][field]) is type(value)


def test_complex_filter_resource_metadata_becomes_metadata():
    assert cf('resource_metadata.flavor.name=m1') == leaf(
        '=', 'metadata.flavor.name', 'm1')


@pytest.mark.parametrize('alias, field', [
    ('user', 'user_id'), ('project', 'project_id'),
    ('resource', 'resource_id'), ('source', 'source'),
])
def test_complex_filter_field_aliases(alias, field):
    assert cf('%s=v' % alias) == leaf('=', field, 'v')


def test_complex_filter_ops_and_and():
    got = cf('project_id=p;metadata.a!=1;metadata.b>=2;metadata.c<=3;'
             'metadata.d>4;metadata.e<5')
    assert got == {'and': [
        leaf('=', 'project_id', 'p'), leaf('!=', 'metadata.a', 1),
        leaf('>=', 'metadata.b', 2), leaf('<=', 'metadata.c', 3),
        leaf('>', 'metadata.d', 4), leaf('<', 'metadata.e', 5)]}


def test_complex_filter_single_constraint_has_no_and():
    assert cf('project_id=p') == leaf('=', 'project_id', 'p')


def test_complex_filter_empty_is_none():
    assert cf('') is None
    assert cf('   ') is None
    assert parse_filter(None).complex_filter() is None
    assert parse_filter('').simple_q() == []
    assert parse_filter('').is_empty


def test_complex_filter_is_json_able():
    got = cf('metadata.a=1;metadata.b=True;metadata.c=float::1.5;source=s')
    assert json.loads(json.dumps(got)) == got


@pytest.mark.parametrize('text, what', [
    ('metadata.x=integer::abc', "cannot convert 'abc' to integer"),
    ('metadata.x=integer::1.5', 'to integer'),
    ('metadata.x=float::abc', 'to float'),
    ('metadata.x=boolean::maybe', 'to boolean'),
    ('metadata.x=float::nan', 'not a finite number'),
    ('metadata.x=float::inf', 'not a finite number'),
    ('metadata.x=1e999', 'not a finite number'),
])
def test_conversion_errors_name_the_constraint(text, what):
    message = error_of(text)
    assert "invalid query '%s'" % text in message
    assert what in message


# --------------------------------------------------------------------------
# simple_q refusals
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, part', [
    ('project_id!=p', 'project_id!=p'),
    ('metadata.a!=1', 'metadata.a!=1'),
    ('project_id=p;metadata.mem>1024', 'metadata.mem>1024'),
    ('metadata.mem<=1', 'metadata.mem<=1'),
    ('resource>=r', 'resource>=r'),
])
def test_simple_q_refuses_non_eq(text, part):
    query = parse_filter(text, where='[mapping:m] query')
    with pytest.raises(MappingError) as info:
        query.simple_q()
    message = str(info.value)
    assert message.startswith("[mapping:m] query: '%s'" % part)
    assert 'query_mode complex' in message


def test_simple_q_refuses_json():
    query = parse_filter('{"=": {"project_id": "p"}}')
    with pytest.raises(MappingError, match='a JSON filter needs query_mode '
                                           'complex'):
        query.simple_q()


# --------------------------------------------------------------------------
# JSON filters
# --------------------------------------------------------------------------

VALID_JSON = [
    '{"=": {"project_id": "p"}}',
    '{"and": [{"=": {"user": "u"}}, {">": {"counter_volume": 0.5}}]}',
    '{"OR": [{"In": {"resource_id": ["a", "b", 3]}}, '
    '{"NOT": {"=~": {"source": "^open"}}}]}',
    '{"=<": {"volume": 5}}',
    '{"=>": {"metadata.mem": 5}}',
    '{"!=": {"metadata.flag": true}}',
    '{"=": {"type": "gauge"}}',
    '{"=": {"unit": "%"}}',
    '{"=": {"message_signature": "x"}}',
    '{"not": {"not": {"=": {"metadata.a.b:c": "d"}}}}',
]


@pytest.mark.parametrize('text', VALID_JSON)
def test_json_valid(text):
    query = parse_filter('  %s\n' % text)
    assert query.is_json
    assert query.text == text
    assert query.complex_filter() == json.loads(text)


def test_json_complex_filter_is_a_copy():
    query = parse_filter('{"=": {"project_id": "p"}}')
    query.complex_filter()['='] = 'changed'
    assert query.complex_filter() == leaf('=', 'project_id', 'p')


@pytest.mark.parametrize('text, path, what', [
    ('{"=": {"project_id": "p"', 'not valid JSON', 'line 1'),
    ('{"=": {"a": 1}, "=": {"b": 2}}', 'not valid JSON', 'duplicate key'),
    ('{"=": {"metadata.a": NaN}}', 'not valid JSON', 'NaN'),
    ('{"=": {"metadata.a": 1e999}}', 'not valid JSON', 'out of range'),
    ('{}', 'top level', 'exactly one key'),
    ('{"=": {"a": 1}, "!=": {"b": 2}}', 'top level', 'exactly one key'),
    ('{"like": {"source": "x"}}', 'top level', "unknown operator 'like'"),
    ('{"and": [{"=": {"source": "s"}}]}', 'and', 'at least 2'),
    ('{"or": {"=": {"source": "s"}}}', 'or', 'at least 2'),
    ('{"and": [{"=": {"source": "s"}}, {"in": {"metadata.flavor": ["a"]}}]}',
     'and[1].in.metadata.flavor', "'in' is not supported on metadata"),
    ('{"and": [{"=": {"source": "s"}}, {"=": {"bogus": "x"}}]}',
     'and[1].=.bogus', "unknown field 'bogus'"),
    ('{"and": [{"=": {"source": "s"}}, "x"]}', 'and[1]',
     'expected an object with one operator, got a string'),
    ('{"=": {"source": null}}', '=.source', 'got null'),
    ('{"=": {"source": ["a"]}}', '=.source', 'got a list'),
    ('{"=": {"source": {"a": 1}}}', '=.source', 'got an object'),
    ('{"=": {}}', '=', 'exactly one key (field)'),
    ('{"=": {"source": "a", "user": "b"}}', '=', 'exactly one key'),
    ('{"=": "source"}', '=', 'expected an object with one field'),
    ('{"in": {"source": []}}', 'in.source', 'non-empty list'),
    ('{"in": {"source": "a"}}', 'in.source', 'non-empty list'),
    ('{"in": {"source": ["a", true]}}', 'in.source[1]', 'got a boolean'),
    ('{"in": {"source": ["a", null]}}', 'in.source[1]', 'got null'),
    ('{"not": [{"=": {"source": "a"}}]}', 'not',
     'expected an object with one operator, got a list'),
    ('{"not": {"or": [{"=": {"source": "s"}}, {">": {"timestamp": "2015"}}]}}',
     'not.or[1].>.timestamp', 'start_time'),
    ('{"=": {"recorded_at": "2015"}}', '=.recorded_at', 'checkpoint'),
    ('{"=": {"counter_name": "cpu"}}', '=.counter_name', "'meters' option"),
    ('{"=": {"meter": "cpu"}}', '=.meter', "'meters' option"),
    ('{"=": {"message_id": "m"}}', '=.message_id', 'paging'),
    ('{"=": {"resource_metadata": "{}"}}', '=.resource_metadata',
     'metadata.<key>'),
    ('{"=": {"resource_metadata.a": "x"}}', '=.resource_metadata.a',
     "only accepts 'metadata.a'"),
    ('{"=": {"metadata.": "x"}}', '=.metadata.', 'metadata key'),
    ('{"=": {"metadata.a b": "x"}}', '=.metadata.a b', 'metadata key'),
    ('{"=": {"Project_id": "x"}}', '=.Project_id', 'unknown field'),
])
def test_json_errors_with_path(text, path, what):
    message = error_of(text, where='[mapping:web] query')
    assert message.startswith('[mapping:web] query: %s' % path)
    assert what in message
    assert 'Traceback' not in message


@pytest.mark.parametrize('head, tail, depth', [
    # 'and' nesting exhausts the validator's recursion first, 'not' json's.
    ('{"and": [{"=": {"source": "s"}}, ', ']}', 600),
    ('{"not": ', '}', 5000),
])
def test_json_deep_nesting_is_a_clean_error(head, tail, depth):
    text = head * depth + '{"=": {"source": "s"}}' + tail * depth
    assert error_of(text) == 'query: the JSON filter is nested too deeply'


def test_json_moderate_nesting_is_fine():
    text = '{"not": ' * 100 + '{"=": {"source": "s"}}' + '}' * 100
    assert parse_filter(text).is_json


def test_json_list_is_refused():
    assert 'must be an object' in error_of('[{"=": {"source": "s"}}]')


@pytest.mark.parametrize('op', ['and', 'AND', 'And', 'or', 'OR'])
def test_json_logical_ops_case_insensitive(op):
    text = '{"%s": [{"=": {"source": "s"}}, {"IN": {"user": ["u"]}}]}' % op
    assert parse_filter(text).is_json


def test_json_in_on_metadata_refused_whatever_the_case():
    assert "'in' is not supported" in error_of('{"In": {"metadata.a": [1]}}')


# --------------------------------------------------------------------------
# Fingerprints
# --------------------------------------------------------------------------

def fp(text):
    return parse_filter(text).fingerprint()


@pytest.mark.parametrize('a, b', [
    ('{"and":[{"=":{"source":"s"}},{"in":{"user_id":["u"]}}]}',
     '{ "AND" : [ {"=" : {"source" : "s"}},\n {"In": {"user_id": ["u"]}} ] }'),
    ('{"=<": {"volume": 1}}', '{"<=": {"counter_volume": 1}}'),
    ('{"=": {"user": "u"}}', '{"=": {"user_id": "u"}}'),
    ('project_id=p;metadata.a=1', ' project_id = p ;  metadata.a=1 '),
    ('project_id=p;metadata.a=1', 'metadata.a=1;project_id=p'),
    ('project=p', 'project_id=p'),
    ('project_id=string::p', 'project_id=p'),
    ('metadata.a=1', 'resource_metadata.a=1'),
    ('metadata.a=2048', 'metadata.a=integer::2048'),
    ("metadata.a='x'", 'metadata.a=string::x'),
    ('', '   '),
])
def test_fingerprint_same(a, b):
    assert fp(a) == fp(b)
    assert parse_filter(a) == parse_filter(b)


@pytest.mark.parametrize('a, b', [
    ('project_id=p', 'project_id=q'),
    ('project_id=p', 'user_id=p'),
    ('metadata.a=1', 'metadata.a>1'),
    ('metadata.a=2048', 'metadata.a=string::2048'),
    ('metadata.a=2048', 'metadata.a=float::2048'),
    ('metadata.a=1', 'metadata.a=True'),
    ('metadata.a=string::2015', 'metadata.a=datetime::2015'),
    ('project_id=p', '{"=": {"project_id": "p"}}'),
    ('{"=": {"source": 1}}', '{"=": {"source": "1"}}'),
    ('{"=": {"source": "a"}}', '{"!=": {"source": "a"}}'),
    ('{"and": [{"=": {"source": "a"}}, {"=": {"user": "b"}}]}',
     '{"or": [{"=": {"source": "a"}}, {"=": {"user": "b"}}]}'),
    ('', 'project_id=p'),
])
def test_fingerprint_differs(a, b):
    assert fp(a) != fp(b)


def test_fingerprint_is_sha256_hex():
    value = fp('project_id=p')
    assert len(value) == 64 and int(value, 16) >= 0


# --------------------------------------------------------------------------
# filter_tree: the canonical meaning, for local evaluation
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, tree', [
    ('', None),
    ('project=p;metadata.ram=2048',
     {'and': [leaf('=', 'project_id', 'p'), leaf('=', 'metadata.ram', 2048)]}),
    ('resource_metadata.a>=string::1', leaf('>=', 'metadata.a', '1')),
    ('{"OR": [{"=<": {"volume": 3}}, {"Not": {"=>": {"user": "u"}}}]}',
     {'or': [leaf('<=', 'counter_volume', 3),
             {'not': leaf('>=', 'user_id', 'u')}]}),
    ('{"In": {"type": ["gauge", "delta"]}}',
     leaf('in', 'counter_type', ['gauge', 'delta'])),
])
def test_filter_tree_is_canonical(text, tree):
    assert parse_filter(text).filter_tree() == tree


def test_filter_tree_is_a_copy():
    query = parse_filter('{"=": {"project_id": "p"}}')
    query.filter_tree()['='] = {}
    assert query.filter_tree() == leaf('=', 'project_id', 'p')

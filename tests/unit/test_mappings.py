"""Unit tests for ceilometer_export.mappings (pure logic, no I/O)."""

import pytest

from ceilometer_export import mappings
from ceilometer_export.mappings import MappingError, parse_mapping


def test_parse_mapping_basic():
    mapping = parse_mapping('web', {
        'query': ' project_id=abc;metadata.instance_type=m1.small ',
        'meters': ' cpu_util, disk.read.bytes ,cpu_util,instance:m1.small'})
    assert mapping.name == 'web'
    assert mapping.meters == ('cpu_util', 'disk.read.bytes', 'instance:m1.small')
    assert not mapping.discover
    assert mapping.query.text == 'project_id=abc;metadata.instance_type=m1.small'
    assert mapping.query.simple_q()[0]['value'] == 'abc'


def test_parse_mapping_discover_and_no_query():
    mapping = parse_mapping('all', {'meters': ' * '})
    assert mapping.discover and mapping.meters == ()
    assert mapping.query.is_empty and mapping.query.complex_filter() is None


def test_parse_mapping_is_frozen_and_comparable():
    a = parse_mapping('m', {'meters': 'cpu', 'query': 'project=p'})
    b = parse_mapping('m', {'meters': 'cpu', 'query': ' project_id = p '})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.name = 'x'


@pytest.mark.parametrize('options, message', [
    ({'meters': 'cpu', 'quey': 'x'},
     "[mapping:web] quey: unknown option (known: meters, query; "
     "did you mean 'query'?)"),
    ({'meter': 'cpu'}, '[mapping:web] meter: unknown option'),
    ({'meters': 'cpu', 'lookback': '5'},
     '[mapping:web] lookback: unknown option (known: meters, query)'),
    ({}, '[mapping:web] meters: missing'),
    ({'meters': '  '}, '[mapping:web] meters: missing'),
    ({'meters': None}, '[mapping:web] meters: missing'),
    ({'meters': 'cpu,,disk'}, '[mapping:web] meters: empty meter name'),
    ({'meters': 'cpu,'}, '[mapping:web] meters: empty meter name'),
    ({'meters': 'cpu disk'}, "invalid meter name 'cpu disk': whitespace"),
    ({'meters': '*, cpu'}, "'*' (discover all meters) cannot be mixed"),
    ({'meters': 'cpu,*'}, 'cannot be mixed'),
    ({'meters': 'cpu*'}, "invalid meter name 'cpu*'"),
    ({'meters': 'a/b'}, "invalid meter name 'a/b'"),
    ({'meters': 5}, '[mapping:web] meters: expected a string'),
    ({'meters': 'cpu', 'query': 'timestamp>1'},
     "[mapping:web] query: invalid query 'timestamp>1'"),
    ({'meters': 'cpu', 'query': '{"=": {"meter": "cpu"}}'},
     '[mapping:web] query: =.meter'),
])
def test_parse_mapping_errors(options, message):
    with pytest.raises(MappingError) as info:
        parse_mapping('web', options)
    assert message in str(info.value)


@pytest.mark.parametrize('name', ['', 'a b', 'a\tb', ' '])
def test_parse_mapping_bad_names(name):
    with pytest.raises(MappingError, match='invalid section name'):
        parse_mapping(name, {'meters': 'cpu'})


def test_mapping_error_is_value_error():
    assert issubclass(MappingError, ValueError)
    assert mappings.OPTIONS == ('query', 'meters')

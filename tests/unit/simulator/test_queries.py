"""Simple and complex query parsing, without HTTP."""
import pytest

from ceilometer_export.simulator import complex_query
from ceilometer_export.simulator import errors
from ceilometer_export.simulator import simple_query as sq


def _queries(*items):
    return [sq.Query(*item) for item in items]


def _error(call, *args, **kwargs):
    with pytest.raises(errors.ApiError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.faultstring


def test_only_the_first_timestamp_op_is_checked():
    # The real validation returns at the first timestamp constraint; a
    # second one with 'eq' passes and is ignored.
    sfilter = sq.to_filter(_queries(('timestamp', 'gt', '2024-01-01'),
                                    ('timestamp', 'eq', '2024-02-01')),
                           sq.SAMPLE_KEYS)
    assert sfilter.start.isoformat() == '2024-01-01T00:00:00'
    assert sfilter.end is None


def test_segregation_comes_before_other_checks():
    status, text = _error(sq.to_filter, _queries(
        ('project', 'ne', 'other'), ('bogus', 'eq', 'x')), sq.SAMPLE_KEYS,
        auth_project='mine')
    assert (status, text) == (401, 'Not Authorized to access project other')


def test_implicit_project_for_non_admin():
    sfilter = sq.to_filter([], sq.SAMPLE_KEYS, auth_project='mine')
    assert sfilter.project == 'mine'


def test_untyped_metadata_values():
    assert sq.Query('metadata.a', None, '5').value_as_type() == 5
    assert sq.Query('metadata.a', None, '0.5').value_as_type() == 0.5
    assert sq.Query('metadata.a', None, 'True').value_as_type() is True
    assert sq.Query('metadata.a', None, "'abc'").value_as_type() == 'abc'
    assert sq.Query('metadata.a', None, 'abc').value_as_type() == 'abc'
    assert sq.Query('metadata.a', None, '5', 'string').value_as_type() == '5'


def test_empty_timestamp_value_means_no_bound():
    sfilter = sq.to_filter(_queries(('timestamp', 'gt', '')), sq.SAMPLE_KEYS)
    assert sfilter.start is None


def _parse(filt=None, orderby=None, limit=None, project=None):
    body = complex_query.check_body({'filter': filt, 'orderby': orderby,
                                     'limit': limit})
    return complex_query.parse(body, project, 100)


def test_complex_normalisation():
    query = _parse('{"OR": [{"=": {"meter": "x"}}, '
                   '{"NOT": {"In": {"project": ["a", "b"]}}}]}',
                   '[{"volume": "DESC"}, {"user": "asc"}]', '7')
    assert query.filter == {'or': [{'=': {'counter_name': 'x'}},
                                   {'not': {'in': {'project_id': ['a', 'b']}}}]}
    assert query.orderby == [('counter_volume', 'desc'), ('user_id', 'asc')]
    assert query.limit == 7


def test_complex_project_restriction_and_check():
    query = _parse('{"=": {"meter": "x"}}', project='mine')
    assert query.filter == {'and': [{'=': {'project_id': 'mine'}},
                                    {'=': {'counter_name': 'x'}}]}
    status, text = _error(_parse, '{"in": {"project": ["mine"]}}',
                          project='mine')
    assert (status, text) == (401,
                              "Not Authorized to access project ['mine']")


@pytest.mark.parametrize('text, ok', [
    ('{"=": {"metadata.a.b": 1}}', True),
    ('{"=~": {"resource": "x"}}', True),
    ('{"=": {"metadata.": 1}}', False),
    ('{"=": {"Meter": "x"}}', False),          # fields are case-sensitive
    ('{"in": {"meter": [true]}}', False),      # no booleans in lists
    ('{"=": {"meter": true}}', True),
    ('{"not": {"and": [{"=": {"meter": "x"}}, {"=": {"meter": "y"}}]}}',
     True),
    ('[]', False),
    ('{}', False),
])
def test_complex_grammar(text, ok):
    if ok:
        _parse(text)
    else:
        assert _error(_parse, text)[0] == 400


@pytest.mark.parametrize('text, message', [
    ('[{}]', '{} does not have enough properties'),
    ('[{"timestamp": "asc", "user": "desc"}]',
     "{'timestamp': 'asc', 'user': 'desc'} has too many properties"),
    ('[{"timestamp": 1}]', "1 is not of type 'string'"),
    ('["timestamp"]', "'timestamp' is not of type 'object'"),
    ('[{"a": 1, "b": 2}]',
     "'a', 'b' do not match any of the regexes: '%s'"
     % complex_query._FIELD_RE.pattern),
])
def test_orderby_errors(text, message):
    assert _error(_parse, None, text) == (
        400, 'Order-by expression not valid: ' + message)


def test_empty_orderby_is_accepted():
    assert _parse(orderby='[]').orderby == []

"""The --filter grammar: precedence, quoting, in-lists, error positions."""

import pytest

from ceilometer_export.stats import expression as ex


def cmp(key, op, value, pos):
    return ex.Comparison(key, op, value, pos)


def test_single_comparison_every_operator():
    for op in ('=', '!=', '<', '<=', '>', '>='):
        assert ex.parse('k %s v' % op) == cmp('k', op, 'v', 0)
    assert ex.parse('k<=v') == cmp('k', '<=', 'v', 0)


def test_and_binds_tighter_than_or():
    assert ex.parse('a=1 or b=2 and c=3') == ex.Or((
        cmp('a', '=', '1', 0),
        ex.And((cmp('b', '=', '2', 7), cmp('c', '=', '3', 15)))))


def test_not_binds_tighter_than_and():
    assert ex.parse('not a=1 and b=2') == ex.And((
        ex.Not(cmp('a', '=', '1', 4), 0), cmp('b', '=', '2', 12)))


def test_not_negates_a_parenthesised_group():
    assert ex.parse('not (a=1 or b=2)') == ex.Not(ex.Or((
        cmp('a', '=', '1', 5), cmp('b', '=', '2', 12))), 0)


def test_double_not():
    assert ex.parse('not not a=1') == ex.Not(
        ex.Not(cmp('a', '=', '1', 8), 4), 0)


def test_symbols_are_and_or():
    assert ex.parse('a=1|b=2&c=3') == ex.Or((
        cmp('a', '=', '1', 0),
        ex.And((cmp('b', '=', '2', 4), cmp('c', '=', '3', 8)))))


def test_keywords_are_case_insensitive():
    assert ex.parse('NOT a=1 AND b=2 Or c In (x)') == ex.parse(
        'not a=1 and b=2 or c in (x)')


def test_parentheses_override_precedence():
    assert ex.parse('(a=1 | b=2) & c=3') == ex.And((
        ex.Or((cmp('a', '=', '1', 1), cmp('b', '=', '2', 7))),
        cmp('c', '=', '3', 14)))


def test_blueprint_example():
    node = ex.parse('( (("key1"="value1") & ("key2"="valueN")) | '
                    '(("key1"="value3") & ("key2"="value4")) )')
    assert isinstance(node, ex.Or)
    assert [tuple((c.key, c.value) for c in a.operands)
            for a in node.operands] == [
        (('key1', 'value1'), ('key2', 'valueN')),
        (('key1', 'value3'), ('key2', 'value4'))]


def test_design_example():
    node = ex.parse('((flavor=m1.small & status=active) | '
                    'resource_id in (r1, r2))')
    assert node.operands[1] == ex.InList('resource_id', ('r1', 'r2'),
                                         False, 37)


def test_long_chains_are_flat():
    assert ex.parse('a=1 or b=2 or c=3').operands == (
        cmp('a', '=', '1', 0), cmp('b', '=', '2', 7), cmp('c', '=', '3', 14))


def test_quoted_values_keep_everything():
    node = ex.parse('name = "a b (c) & d | e = \'f\'"')
    assert node.value == "a b (c) & d | e = 'f'"
    assert ex.parse("name='it\\'s'").value == "it's"
    assert ex.parse("name=''").value == ''
    assert ex.parse("'odd key'=v").key == 'odd key'


def test_quoted_keywords_are_plain_values():
    assert ex.parse("status = 'and'").value == 'and'
    with pytest.raises(ex.ExpressionError):
        ex.parse('"in" in ("or", not)')
    assert ex.parse('"in" in ("or", "not")') == ex.InList(
        'in', ('or', 'not'), False, 0)


def test_bare_words_with_punctuation():
    node = ex.parse('image_ref:id = 7a-b.c/d@e+f')
    assert (node.key, node.value) == ('image_ref:id', '7a-b.c/d@e+f')
    assert ex.parse('t >= 2024-01-01T00:00:00').value == '2024-01-01T00:00:00'


def test_in_lists():
    assert ex.parse('k in (a)') == ex.InList('k', ('a',), False, 0)
    assert ex.parse("k in ( a , 'b c' ,\"d\")").values == ('a', 'b c', 'd')
    assert ex.parse('k not in (a, b)') == ex.InList('k', ('a', 'b'), True, 0)


def test_keys_lists_every_name():
    assert ex.keys(ex.parse('a=1 or not (b in (x) and c<2)')) == {
        'a', 'b', 'c'}


@pytest.mark.parametrize('text, position, message', [
    ('', 0, 'empty expression'),
    ('   ', 3, 'empty expression'),
    ('flavor= & x=1', 8, "expected a value after '='"),
    ('(a=b', 4, "expected ')'"),
    ('a=b)', 3, 'expected "and", "or" or the end'),
    ('a=b c=d', 4, 'expected "and", "or" or the end'),
    ('a in (x,', 8, "expected a value after ','"),
    ('a in x', 5, "expected '(' after \"in\""),
    ('a in ()', 6, "expected a value after '('"),
    ('a in (x y)', 8, "expected ',' or ')'"),
    ("a='x", 2, "unterminated ' string"),
    ('a="x\\"', 2, 'unterminated " string'),
    ('a ! b', 2, "unexpected '!'"),
    ('and=1', 0, 'expected a dimension name or "("'),
    ('a=1 and', 7, 'expected a dimension name or "("'),
    ('a=1 or or b=2', 7, 'expected a dimension name or "("'),
    ('a', 1, 'expected an operator'),
    ('a b', 2, 'expected an operator'),
    ('a not b', 6, 'expected "in" after "not"'),
    ('a = or', 4, "expected a value after '='"),
    ('not', 3, 'expected a dimension name or "("'),
    ('()', 1, 'expected a dimension name or "("'),
    ('a=1 & (b=2 | (c=3)', 18, "expected ')'"),
])
def test_errors_point_at_the_position(text, position, message):
    with pytest.raises(ex.ExpressionError) as info:
        ex.parse(text)
    err = info.value
    assert err.position == position
    assert err.message.startswith(message)
    assert str(err).endswith('at column %d' % (position + 1))
    assert err.caret() == '%s\n%s^' % (text, ' ' * position)


def test_dimension_pairs():
    assert ex.dimension('flavor=m1.small') == cmp('flavor', '=', 'm1.small',
                                                  0)
    assert ex.dimension(' k = a=b ').value == 'a=b'
    assert ex.dimension('k=').value == ''
    with pytest.raises(ex.ExpressionError, match='KEY=VALUE'):
        ex.dimension('flavor')
    with pytest.raises(ex.ExpressionError, match='empty dimension name'):
        ex.dimension('=x')

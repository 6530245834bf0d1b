"""The --filter expression language: a tokenizer and a recursive-descent
parser producing an AST whose nodes remember where they were written.

Grammar (keywords are case-insensitive; ``&`` and ``|`` are ``and`` and
``or``; ``not`` binds tighter than ``and``, which binds tighter than
``or``)::

    expr       := or_expr END
    or_expr    := and_expr (('or' | '|') and_expr)*
    and_expr   := not_expr (('and' | '&') not_expr)*
    not_expr   := 'not' not_expr | '(' or_expr ')' | comparison
    comparison := name op value
                | name ['not'] 'in' '(' value (',' value)* ')'
    op         := '=' | '!=' | '<' | '<=' | '>' | '>='
    name/value := bare word | 'single quoted' | "double quoted"

A bare word is any run of characters other than blanks and ``()=!<>&|,'"``
and not a keyword (quote a name or value spelled like one). In quotes, a
backslash escapes the next character. Nothing is evaluated in Python: the
AST is turned into SQL by ``query``.
"""

import dataclasses

_SINGLE = '(),'
_OPERATORS = ('!=', '<=', '>=', '=', '<', '>')
_SYMBOLS = {'&': 'and', '|': 'or'}
_SPECIAL = set(_SINGLE + '=!<>&|\'"')
KEYWORDS = ('and', 'or', 'not', 'in')


class ExpressionError(ValueError):
    """A syntax error, with the 0-based position it was found at."""

    def __init__(self, message, text, position):
        super().__init__(message)
        self.message = message
        self.text = text
        self.position = position

    def __str__(self):
        return '%s at column %d' % (self.message, self.position + 1)

    def caret(self):
        """Two lines: the expression and a caret under the position."""
        return '%s\n%s^' % (self.text, ' ' * self.position)


@dataclasses.dataclass(frozen=True)
class Token:
    kind: str       # WORD, STRING, OP, AND, OR, '(', ')', ',' or END
    text: str
    position: int

    def keyword(self):
        """The keyword a bare word spells, else None."""
        if self.kind == 'WORD' and self.text.lower() in KEYWORDS:
            return self.text.lower()
        return None

    def describe(self):
        return 'end of expression' if self.kind == 'END' else repr(self.text)


@dataclasses.dataclass(frozen=True)
class Comparison:
    key: str
    op: str
    value: str
    position: int


@dataclasses.dataclass(frozen=True)
class InList:
    key: str
    values: tuple
    negated: bool
    position: int


@dataclasses.dataclass(frozen=True)
class Not:
    operand: object
    position: int


@dataclasses.dataclass(frozen=True)
class And:
    operands: tuple


@dataclasses.dataclass(frozen=True)
class Or:
    operands: tuple


def tokenize(text):
    tokens = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in _SINGLE:
            tokens.append(Token(char, char, pos))
            pos += 1
        elif char in _SYMBOLS:
            tokens.append(Token(_SYMBOLS[char].upper(), char, pos))
            pos += 1
        elif char in '\'"':
            token, pos = _quoted(text, pos)
            tokens.append(token)
        elif char in '=!<>':
            token = _operator(text, pos)
            tokens.append(token)
            pos += len(token.text)
        else:
            end = pos
            while end < len(text) and not (text[end].isspace()
                                           or text[end] in _SPECIAL):
                end += 1
            tokens.append(Token('WORD', text[pos:end], pos))
            pos = end
    tokens.append(Token('END', '', len(text)))
    return tokens


def _quoted(text, start):
    quote = text[start]
    chars = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '\\' and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
        elif char == quote:
            return Token('STRING', ''.join(chars), start), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise ExpressionError('unterminated %s string' % quote, text, start)


def _operator(text, pos):
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token('OP', op, pos)
    raise ExpressionError("unexpected '!' (did you mean '!=' or 'not'?)",
                          text, pos)


class _Parser(object):

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.token
        self.index += 1
        return token

    def error(self, message, token=None):
        token = token or self.token
        return ExpressionError(message, self.text, token.position)

    def is_kind(self, kind, keyword=None):
        return (self.token.kind == kind
                or (keyword is not None and self.token.keyword() == keyword))

    def expect(self, kind, what):
        if self.token.kind != kind:
            raise self.error('expected %s, found %s'
                             % (what, self.token.describe()))
        return self.advance()

    def parse(self):
        if self.token.kind == 'END':
            raise self.error('empty expression')
        node = self.or_expr()
        if self.token.kind != 'END':
            raise self.error('expected "and", "or" or the end, found %s'
                             % self.token.describe())
        return node

    def or_expr(self):
        operands = [self.and_expr()]
        while self.is_kind('OR', 'or'):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self):
        operands = [self.not_expr()]
        while self.is_kind('AND', 'and'):
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self):
        if self.token.keyword() == 'not':
            position = self.advance().position
            return Not(self.not_expr(), position)
        if self.token.kind == '(':
            self.advance()
            node = self.or_expr()
            self.expect(')', "')'")
            return node
        return self.comparison()

    def operand(self, what):
        token = self.token
        if token.kind == 'STRING' or (token.kind == 'WORD'
                                      and not token.keyword()):
            return self.advance().text
        raise self.error('expected %s, found %s' % (what, token.describe()))

    def comparison(self):
        position = self.token.position
        key = self.operand('a dimension name or "("')
        negated = self.token.keyword() == 'not'
        if negated:
            self.advance()
            if self.token.keyword() != 'in':
                raise self.error('expected "in" after "not", found %s'
                                 % self.token.describe())
        if self.token.keyword() == 'in':
            self.advance()
            return InList(key, self.value_list(), negated, position)
        if self.token.kind != 'OP':
            raise self.error('expected an operator (= != < <= > >= in) '
                             'after %r, found %s'
                             % (key, self.token.describe()))
        op = self.advance().text
        return Comparison(key, op, self.value(op), position)

    def value(self, after):
        # A keyword is not a bare value ("a = or b = c" is a typo, not the
        # value "or"): quote it.
        return self.operand('a value after %r' % after)

    def value_list(self):
        self.expect('(', "'(' after \"in\"")
        values = [self.value('(')]
        while self.token.kind == ',':
            self.advance()
            values.append(self.value(','))
        self.expect(')', "',' or ')'")
        return tuple(values)


def parse(text):
    """The AST of a --filter expression; ExpressionError if invalid."""
    return _Parser(text).parse()


def dimension(text):
    """A --dimension KEY=VALUE pair as a Comparison. The value is all the
    text after the first '=', taken literally (blanks around both sides
    are dropped); use --filter with quotes for anything unusual."""
    key, sep, value = text.partition('=')
    if not sep:
        raise ExpressionError('expected KEY=VALUE', text, len(text))
    if not key.strip():
        raise ExpressionError('empty dimension name', text, 0)
    return Comparison(key.strip(), '=', value.strip(), 0)


def keys(node):
    """Every dimension name the expression mentions."""
    if isinstance(node, (And, Or)):
        return {k for operand in node.operands for k in keys(operand)}
    if isinstance(node, Not):
        return keys(node.operand)
    return {node.key}

"""Samples that cannot be stored as they are (``export_rejects``).

A source turns such a sample into a *reject row* instead of a samples row;
the store keeps it in ``export_rejects`` in the transaction of its page,
so the rest of the page lands and the checkpoint moves past it.

``reason`` is ``CODE: which field, what is wrong``; CODE is one of
``REASONS`` (the ``reason`` label of the Prometheus rejects counter).
``raw`` is the sample as JSON with every non-ASCII character escaped
(``json.dumps(ensure_ascii=True)``): lone surrogates stay ``\\udce9``,
NaN stays ``NaN``, so ``json.loads(raw)`` gives back exactly what was
received and nothing invalid is ever replaced.
"""

import json
import re

VOLUME = 'volume'
TIMESTAMP = 'timestamp'
MESSAGE_ID = 'message_id'
UNICODE = 'unicode'
TOO_LONG = 'too_long'
OTHER = 'other'
REASONS = (VOLUME, TIMESTAMP, MESSAGE_ID, UNICODE, TOO_LONG, OTHER)

_KEY = 'reject'
# Lone surrogates are not Unicode text (no UTF-8 encoding exists); NUL is,
# but PostgreSQL can store it neither in text nor in JSONB.
_INVALID = re.compile('[\x00\ud800-\udfff]')


def reject_row(raw, reason, detail, message_id=None, timestamp=None):
    """A reject row; ``message_id``/``timestamp`` None when unusable."""
    return {'message_id': message_id, 'timestamp': timestamp,
            _KEY: '%s: %s' % (reason, detail), 'raw': raw_text(raw)}


def is_reject(row):
    return _KEY in row


def reason_of(row):
    return row[_KEY]


def code(reason):
    """The REASONS code of a stored reason text."""
    head = reason.split(':', 1)[0]
    return head if head in REASONS else OTHER


def raw_text(raw):
    return json.dumps(raw, ensure_ascii=True, default=repr)


def invalid_text(value, path=''):
    """(where, problem) of the first string in ``value`` (nested dicts and
    lists, keys included) that cannot be stored as text, else None."""
    if isinstance(value, str):
        bad = _INVALID.search(value)
        if bad is None:
            return None
        char = bad.group()
        what = ('U+0000 (NUL) cannot be stored on every backend'
                if char == '\x00' else 'lone surrogate U+%04X (not valid '
                'Unicode, e.g. undecodable UTF-8)' % ord(char))
        return repr(path or 'value'), '%s at offset %d' % (what, bad.start())
    if isinstance(value, dict):
        for key, item in value.items():
            where = (invalid_text(key, _join(path, key))
                     or invalid_text(item, _join(path, key)))
            if where is not None:
                return where
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = invalid_text(item, '%s[%d]' % (path, index))
            if where is not None:
                return where
    return None


def _join(path, key):
    # A key with an invalid character is shown escaped, never raw.
    key = key if _INVALID.search(key) is None else ascii(key)
    return '%s.%s' % (path, key) if path else key

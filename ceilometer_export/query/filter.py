"""A parsed mapping query: ``FilterQuery`` and ``parse_filter``.

The same mapping must select the same samples whether it is sent as a
simple query (``GET ...?q.field=...``) or as a complex filter
(``POST /v2/query/samples``): see ``FilterQuery.complex_filter``.
"""

import copy
import hashlib
import json

from ceilometer_export.query import cli
from ceilometer_export.query import complex
from ceilometer_export.query.base import fail as _fail


class FilterQuery:
    """A validated mapping filter; build it with parse_filter()."""

    def __init__(self, text, is_json, where, constraints=(), tree=None,
                 canonical=None):
        self.text = text
        self.is_json = is_json
        self.where = where
        self.constraints = constraints   # CLI grammar only
        self._tree = tree                # JSON only, as written
        self._canonical = canonical      # JSON only, normalised

    @property
    def is_empty(self):
        return not self.text

    def simple_q(self):
        """The ``q`` list for a simple query, as cli_to_array builds it."""
        if self.is_json:
            _fail(self.where, 'a JSON filter needs query_mode complex')
        for item in self.constraints:
            if item.op != 'eq':
                _fail(self.where, "'%s' cannot be sent as a simple query: "
                                  "the simple API only accepts '=' on %s "
                                  "(use query_mode complex)"
                                  % (item.text, item.field))
        return [item.as_q() for item in self.constraints]

    def complex_filter(self):
        """The filter dict for POST /v2/query/samples, or None when empty."""
        if self.is_json:
            return copy.deepcopy(self._tree)
        return cli.to_complex_filter(self.constraints)

    def filter_tree(self):
        """What the query means, for local evaluation (SQL, Python): the
        complex filter with lowercase operators, '=<'/'=>' folded to
        '<='/'>=' and canonical field names (``user_id``, not ``user``;
        ``metadata.KEY``), values typed as the server types them; None
        when the query is empty."""
        if self.is_json:
            return copy.deepcopy(self._canonical)
        return cli.to_complex_filter(self.constraints)

    def _canonical_form(self):
        if self.is_json:
            return ['json', self._canonical]
        # Constraints are ANDed (a field cannot repeat with '='), so their
        # order does not matter.
        items = [cli.canonical_constraint(item) for item in self.constraints]
        return ['cli', sorted(items, key=json.dumps)]

    def fingerprint(self):
        """sha256 hex of a canonical form of the query (version
        FINGERPRINT_VERSION): stored in every checkpoint, so a change of
        the form restarts every pair (tests/unit/test_pinned_hashes.py)."""
        text = json.dumps(self._canonical_form(), sort_keys=True,
                          separators=(',', ':'), ensure_ascii=False)
        return hashlib.sha256(text.encode('utf-8')).hexdigest()

    def __eq__(self, other):
        if not isinstance(other, FilterQuery):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    def __hash__(self):
        return hash(self.fingerprint())

    def __repr__(self):
        return 'FilterQuery(%r)' % (self.text,)


# Bump only together with a migration that rewrites the stored
# query_fingerprint values, and re-pin the test values.
FINGERPRINT_VERSION = 1


def parse_filter(text, where='query'):
    """Parse and validate a mapping's ``query`` option."""
    text = (text or '').strip()
    if not text:
        return FilterQuery('', False, where)
    if text.startswith('{'):
        tree, canonical = complex.parse_json(text, where)
        return FilterQuery(text, True, where, tree=tree, canonical=canonical)
    if text.startswith('['):
        _fail(where, 'a JSON filter must be an object ({...}), not a list')
    return FilterQuery(text, False, where, constraints=cli.parse_cli(text, where))

"""Pages of sample rows made ready for writing: pure Python, no SQL.

``Preparer.prepare`` does all of a page's CPU work that needs no
connection -- duplicates dropped, dimension sets found and hashed, the
metadata JSON dumped once, the rows encoded for the backend's writer --
so that it can run while the previous page is being written (see
``pipeline``).
"""

import dataclasses
import json
import operator

from ceilometer_export import dimensions
from ceilometer_export import rejects
from ceilometer_export.store import dialects
from ceilometer_export.store import duplicates
from ceilometer_export.store import rollup as rollup_mod
from ceilometer_export.store import schema
from ceilometer_export.store import writers

COLUMNS = tuple(c.name for c in schema.samples.columns)
_TIMESTAMPS = ('timestamp', 'recorded_at')
# Distinct metadata texts remembered per process: a cloud's resources
# repeat theirs on every sample; the bound keeps memory flat.
MAX_REMEMBERED = 20000


@dataclasses.dataclass(frozen=True)
class PreparedPage:
    ids: list                # message ids, each once
    meters: frozenset
    positions: list          # (timestamp, message_id) per sample
    buckets: dict            # message_id -> (counter_name, timestamp)
    rollup: dict             # message_id -> the rollup columns' values
    groups: list             # rollup.groups_of every sample (all new)
    dimension_sets: dict     # set_id -> ((key, value), ...)
    payload: object          # what the dialect's writer sends
    rejected: list           # reject rows (``rejects.reject_row``)
    last: object             # the page's last position, rejects included

    def __len__(self):
        return len(self.ids)


class Preparer(object):
    """Turns sample dicts (``samples`` columns, no dimension_set_id) into
    ``PreparedPage`` for one backend; used by one thread at a time."""

    def __init__(self, backend, dim_filter):
        self._dialect = dialects.of(backend)
        self._filter = dim_filter
        # metadata JSON text -> (set_id, pairs): equal metadata is
        # extracted and hashed once.
        self._sets = {}

    def prepare(self, rows) -> PreparedPage:
        rows, rejected = _split_rejects(rows)
        # The API can return one message_id twice (Ceilometer does not
        # enforce uniqueness); one statement may not touch a row twice.
        by_id = {row['message_id']: row
                 for row in duplicates.latest_versions(rows)}
        encode_ts = self._dialect.encode_timestamp
        tuples, dim_sets, rollup, buckets = [], {}, {}, {}
        for message_id, row in by_id.items():
            text, set_id, pairs = self._metadata(row.get('resource_metadata'))
            if set_id is not None:
                dim_sets[set_id] = pairs
            # Every column present (a caller may leave optional ones out),
            # then the tuples picked at C speed.
            values = dict(_EMPTY_ROW)
            values.update(row)
            values['resource_metadata'] = text
            values['dimension_set_id'] = set_id
            rollup[message_id] = _rollup_values(values)
            buckets[message_id] = (values['counter_name'],
                                   values['timestamp'])
            if encode_ts is not dialects.native:
                for name in _TIMESTAMPS:
                    values[name] = encode_ts(values[name])
            tuples.append(_column_values(values))
        positions = [_position(r) for r in by_id.values()]
        ends = positions + [p for p in map(_position, rejected)
                            if None not in p]
        return PreparedPage(
            ids=list(by_id), meters=frozenset(b[0] for b in buckets.values()),
            positions=positions, buckets=buckets, rollup=rollup,
            groups=rollup_mod.groups_of(buckets, rollup, by_id),
            dimension_sets=dim_sets,
            payload=self._dialect.encode_page(tuples), rejected=rejected,
            last=max(ends) if ends else None)

    def _metadata(self, metadata):
        """(JSON text, set id, dimension pairs) of a sample's metadata;
        each distinct metadata is dumped, extracted and hashed once."""
        # Keyed by its keys and values when they are hashable: far cheaper
        # than dumping it. Only metadata whose values are all strings (as
        # the API's flattened metadata) is remembered so: then no other
        # value type can be equal to a key (1, 1.0 and True are equal but
        # dump differently). Other metadata is keyed by its JSON text.
        key = (*metadata, *metadata.values()) \
            if isinstance(metadata, dict) else ()
        try:
            known = self._sets.get(key)
        except TypeError:               # a nested value
            known = None
        if known is not None:
            return known
        text = json.dumps(metadata or {})
        if set(map(type, metadata.values() if metadata else ())) - {str}:
            key = text
            known = self._sets.get(key)
        if known is None:
            if len(self._sets) >= MAX_REMEMBERED:
                self._sets.clear()
            pairs = dimensions.extract(metadata, self._filter)
            known = self._sets[key] = (text, dimensions.set_id(pairs), pairs)
        return known


_EMPTY_ROW = dict.fromkeys(COLUMNS)
_column_values = operator.itemgetter(*COLUMNS)
_rollup_values = operator.itemgetter(*writers.ROLLUP_COLUMNS)


def dimension_sets(metadatas, dim_filter):
    """The set id of each metadata, and {set id: pairs} of those sets;
    each distinct set is hashed once."""
    sets = {}
    set_ids = []
    for metadata in metadatas:
        pairs = dimensions.extract(metadata, dim_filter)
        if pairs not in sets:
            sets[pairs] = dimensions.set_id(pairs)
        set_ids.append(sets[pairs])
    return set_ids, {set_id: pairs for pairs, set_id in sets.items()
                     if set_id is not None}


def _split_rejects(rows):
    samples, rejected = [], []
    for row in rows:
        (rejected if rejects.is_reject(row) else samples).append(row)
    return samples, rejected


def _position(row):
    return (row['timestamp'], row['message_id'])

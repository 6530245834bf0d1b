"""Completeness proof: per (mapping, meter, UTC hour), the samples the API
holds for the mapping's filter against the stored rows the same filter
selects (design section 10); repair through the worker's range export.

Knows neither HTTP nor SQL: the API side is ``source.counts.ApiCounts``,
the database side ``store.counts`` through ``Store.query``.

An hour whose counts differ is looked at message id by message id before
it is reported: samples held in ``export_rejects`` are accounted for, and
so is a message id the API holds twice (in the same hour, or a second
version elsewhere that the store keeps instead: ``store.duplicates``).
Such hours are *explained*: listed apart, never repaired, exit status 0.
"""

import dataclasses
import datetime
import typing

from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import observer as observer_mod
from ceilometer_export import query
from ceilometer_export.source import counts as api_counts
from ceilometer_export.store import counts as db_counts
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)
HOUR = api_counts.HOUR
ONE_US = datetime.timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True)
class Pair:
    """One (mapping, meter) and the range compared: [start, end)."""
    mapping: typing.Any          # mappings.Mapping
    meter: str
    start: datetime.datetime
    end: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Hour:
    """An hour whose counts differ; ``explained`` says why when that is
    not a missing or extra sample ('duplicate', 'rejected')."""
    mapping: str
    meter: str
    hour: datetime.datetime
    api_count: int
    db_count: int
    explained: tuple = ()

    def as_json(self) -> dict:
        return {'mapping': self.mapping, 'meter': self.meter,
                'hour': self.hour.strftime('%Y-%m-%dT%H:%M:%SZ'),
                'api_count': self.api_count, 'db_count': self.db_count}


@dataclasses.dataclass
class Outcome:
    """What one verify run found."""
    differing: list = dataclasses.field(default_factory=list)
    explained: list = dataclasses.field(default_factory=list)
    # {mapping name: API samples in the compared ranges}
    compared: dict = dataclasses.field(default_factory=dict)
    # [(mapping name, message)]: pairs that could not be compared
    failed: list = dataclasses.field(default_factory=list)


def hour_range(pair, hour):
    """The part of ``hour`` inside the pair's range."""
    return max(pair.start, hour), min(pair.end, hour + HOUR)


class Verifier(object):

    def __init__(self, counts, store, start_time=None, observer=None,
                 step=60.0):
        self.counts = counts          # source.counts.ApiCounts
        self.store = store
        self.start_time = start_time
        # The daemon's observer: a run reports progress per pair and per
        # hour looked at (the watchdog), and which mapping (metrics).
        self.observer = observer or observer_mod.Observer()
        self.step = step

    def _progress(self, mapping_name):
        self.observer.verifying(mapping_name)
        self.observer.busy('verify', self.step)

    # Which ranges -------------------------------------------------------
    def pairs(self, mappings, since=None, until=None):
        """Every checkpointed pair of ``mappings`` with its range: from
        ``since``, else ``[export] start_time``, else the API's oldest
        sample; to ``until`` (exclusive), else up to and including the
        checkpoint. Returns (pairs, skipped messages)."""
        by_name = {m.name: m for m in mappings}
        found, skipped = [], []
        for cp in self.store.checkpoints():
            mapping = by_name.get(cp.mapping)
            if mapping is None or cp.position is None:
                continue
            self._progress(cp.mapping)
            end = until or cp.last_timestamp + ONE_US
            start = since or self.start_time or self.counts.oldest(
                mapping, cp.meter)
            if start is None:
                skipped.append('mapping %s meter %s: the API holds no '
                               'sample' % (cp.mapping, cp.meter))
            elif start < end:
                found.append(Pair(mapping, cp.meter, start, end))
        return found, skipped

    # Comparing ----------------------------------------------------------
    def check(self, mappings):
        """Raise MappingError for a filter the database cannot evaluate."""
        for mapping in mappings:
            try:
                self.store.query(db_counts.check_filter,
                                 mapping.query.filter_tree())
            except query.MappingError as exc:
                raise query.MappingError('[mapping:%s] query: %s: verify '
                                         'cannot evaluate it'
                                         % (mapping.name, exc)) from None

    def verify(self, pairs):
        """Compare every pair; one that fails is recorded, not raised."""
        outcome = Outcome()
        for pair in pairs:
            name = pair.mapping.name
            self._progress(name)
            outcome.compared.setdefault(name, 0)
            try:
                hours = self.compare(pair, outcome)
            except (errors.SourceError, errors.StoreError) as exc:
                outcome.failed.append((name, 'meter %s: %s'
                                       % (pair.meter, exc)))
                continue
            for hour in hours:
                (outcome.explained if hour.explained
                 else outcome.differing).append(hour)
        return outcome

    def compare(self, pair, outcome):
        """The differing hours of one pair, each looked at id by id."""
        tree = pair.mapping.query.filter_tree()
        api = self.counts.per_hour(pair.mapping, pair.meter, pair.start,
                                   pair.end)
        db = self.store.query(db_counts.per_hour, pair.meter, tree,
                              pair.start, pair.end)
        outcome.compared[pair.mapping.name] += sum(api.values())
        return [self._look_closer(pair, tree, hour, api.get(hour, 0),
                                  db.get(hour, 0))
                for hour in sorted(set(api) | set(db))
                if api.get(hour, 0) != db.get(hour, 0)]

    def _look_closer(self, pair, tree, hour, api_count, db_count):
        self._progress(pair.mapping.name)
        lo, hi = hour_range(pair, hour)
        api_ids = self.counts.ids(pair.mapping, pair.meter, lo, hi)
        db_ids = self.store.query(db_counts.ids, pair.meter, tree, lo, hi)
        rejected = self.store.query(db_counts.rejected, pair.mapping.name,
                                    pair.meter, lo, hi)
        missing = set(api_ids) - db_ids - rejected
        # Held elsewhere: the API also holds another version of that id,
        # which the store keeps (the latest one).
        elsewhere = self.store.query(db_counts.stored, missing)
        reasons = []
        if api_count > len(api_ids) or elsewhere:
            reasons.append('duplicate')
        if rejected & set(api_ids):
            reasons.append('rejected')
        explained = not (missing - elsewhere) and db_ids <= set(api_ids)
        return Hour(pair.mapping.name, pair.meter, hour, api_count,
                    db_count, tuple(reasons) if explained else ())

    # Repairing ----------------------------------------------------------
    def repair(self, worker, pairs, hours, failed):
        """Re-export the ``hours`` (consecutive ones as one range) through
        ``worker.export_range``; returns {mapping name: samples read}.
        A range that fails is appended to ``failed`` (mapping, message).
        """
        read = {}
        by_pair = {(p.mapping.name, p.meter): p for p in pairs}
        for key, ranges in _ranges(by_pair, hours).items():
            pair = by_pair[key]
            for lo, hi in ranges:
                self._progress(key[0])
                try:
                    result = worker.export_range(pair.mapping, pair.meter,
                                                 lo, hi)
                except (errors.SourceError, errors.StoreError) as exc:
                    failed.append((key[0], 'repair of meter %s: %s'
                                   % (key[1], exc)))
                    continue
                read[key[0]] = read.get(key[0], 0) + result.read
                LOG.info('repaired mapping %s meter %s [%s, %s): %d samples '
                         're-exported (%d new)', key[0], key[1],
                         lo.isoformat(), hi.isoformat(), result.read,
                         result.new)
        return read

    def narrowed(self, pairs, hours):
        """The pairs cut down to the ``hours`` (to verify them again)."""
        by_pair = {(p.mapping.name, p.meter): p for p in pairs}
        return [Pair(by_pair[key].mapping, key[1], lo, hi)
                for key, ranges in _ranges(by_pair, hours).items()
                for lo, hi in ranges]

    # Recording ----------------------------------------------------------
    def record(self, kind, mapping, started_at, samples, problems):
        """One export_runs row for a verify or repair run of a mapping."""
        error = '; '.join(problems)[:2000] or None
        self.store.query(db_counts.record_run, kind, mapping, started_at,
                         timeutil.utcnow(), samples, 'failed' if problems else 'ok',
                         error)


def _ranges(by_pair, hours):
    """{pair key: [(lo, hi), ...]} with consecutive hours merged."""
    found = {}
    for hour in sorted(hours, key=lambda h: (h.mapping, h.meter, h.hour)):
        key = (hour.mapping, hour.meter)
        lo, hi = hour_range(by_pair[key], hour.hour)
        spans = found.setdefault(key, [])
        if spans and spans[-1][1] == lo:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    return found

"""In-memory sample store indexed like the SQL driver's tables.

Samples live in one list per meter name, sorted by an integer key made of
the timestamp and a seeded random tie-break (see model.sort_key), so that a
timestamp window is two bisects and samples sharing a timestamp come back in
an order no client can predict from their ids.

Callers hold ``store.lock`` while they iterate; writers take it too.
"""
import bisect
import datetime
import heapq
import operator
import random
import threading
import uuid

from oslo_utils import timeutils

from ceilometer_export.simulator import model

_KEY = operator.attrgetter('key')
_REQUIRED = ('counter_name', 'counter_type', 'counter_unit', 'counter_volume',
             'resource_id', 'timestamp')


class _Series(object):
    __slots__ = ('keys', 'recs')

    def __init__(self):
        self.keys = []
        self.recs = []

    def add_sorted(self, recs):
        keys = [r.key for r in recs]
        if not self.keys or keys[0] >= self.keys[-1]:
            self.keys.extend(keys)
            self.recs.extend(recs)
        elif len(recs) > 64:
            merged = sorted(self.recs + recs, key=_KEY)
            self.recs = merged
            self.keys = [r.key for r in merged]
        else:
            for key, rec in zip(keys, recs):
                idx = bisect.bisect_right(self.keys, key)
                self.keys.insert(idx, key)
                self.recs.insert(idx, rec)

    def window(self, lo, hi):
        start = 0 if lo is None else bisect.bisect_left(self.keys, lo)
        end = len(self.keys) if hi is None else bisect.bisect_left(self.keys, hi)
        return start, end


def _to_naive_utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = timeutils.parse_isotime(value)
    if not isinstance(value, datetime.datetime):
        raise ValueError('timestamp must be a datetime, got %r' % (value,))
    return timeutils.normalize_time(value)


class _ResourceSummary(object):
    __slots__ = ('first', 'last', 'latest')

    def __init__(self, rec):
        self.first = self.last = rec.timestamp
        self.latest = rec

    def update(self, rec):
        ts = rec.timestamp
        if ts < self.first:
            self.first = ts
        if ts > self.last or (ts == self.last and rec.seq > self.latest.seq):
            self.last = ts
            self.latest = rec


class SampleStore(object):

    def __init__(self, seed=0):
        self.lock = threading.RLock()
        self._rng = random.Random('tiebreak-%s' % seed)
        self._series = {}
        self._by_id = {}
        self._latest_pair = {}
        self._latest_meter = {}
        self._meters = {}
        self._metasets = {}
        self._resources = {}
        self._seq = 0

    def __len__(self):
        return self._seq

    # -- writing ---------------------------------------------------------

    def add(self, raws, now=None):
        """Insert raw sample dicts; returns the stored records."""
        now = now or timeutils.utcnow()
        # Within one call a metadata dict object is only interpreted once
        # (generated data shares one dict per resource).
        seen = {}
        with self.lock:
            recs = [self._record(raw, now, seen) for raw in raws]
            by_meter = {}
            for rec in recs:
                by_meter.setdefault(rec.meter.name, []).append(rec)
                self._index(rec)
            for name, group in by_meter.items():
                group.sort(key=_KEY)
                self._series.setdefault(name, _Series()).add_sorted(group)
        return recs

    def _record(self, raw, now, seen):
        missing = [k for k in _REQUIRED if raw.get(k) is None]
        if missing:
            raise ValueError('sample lacks %s: %r' % (', '.join(missing), raw))
        rec = model.Record()
        rec.override = None
        self._seq += 1
        rec.seq = self._seq
        rec.meter = self._meter(raw)
        rec.timestamp = _to_naive_utc(raw['timestamp'])
        rec.recorded_at = _to_naive_utc(raw.get('recorded_at')) or now
        rec.key = model.sort_key(rec.timestamp,
                                 self._rng.getrandbits(model.TIE_BITS))
        rec.message_id = raw.get('message_id') or str(uuid.uuid1())
        rec.volume = float(raw['counter_volume'])
        rec.user_id = raw.get('user_id')
        rec.project_id = raw.get('project_id')
        rec.resource_id = raw['resource_id']
        rec.source = raw.get('source') or 'openstack'
        meta = raw.get('resource_metadata') or {}
        known = seen.get(id(meta))
        if known is None:
            # Holding ``meta`` keeps its id from being reused in this call.
            known = seen[id(meta)] = (meta, self._metaset(meta))
        rec.meta = known[1]
        return rec

    def _meter(self, raw):
        ident = (raw['counter_name'], raw['counter_type'], raw['counter_unit'])
        meter = self._meters.get(ident)
        if meter is None:
            meter = model.Meter(*ident, seq=len(self._meters))
            self._meters[ident] = meter
        return meter

    def _metaset(self, raw):
        # repr() tells 1, 1.0, True and '1' apart, and is fast.
        key = repr(raw)
        metaset = self._metasets.get(key)
        if metaset is None:
            metaset = self._metasets[key] = model.MetaSet(raw)
        return metaset

    def _index(self, rec):
        previous = self._by_id.get(rec.message_id)
        if previous is None:
            self._by_id[rec.message_id] = rec
        elif isinstance(previous, list):
            previous.append(rec)
        else:
            # Same message_id twice: the real tables do not prevent it.
            self._by_id[rec.message_id] = [previous, rec]
        self._latest_pair[(rec.meter, rec.resource_id)] = rec
        self._latest_meter[rec.meter] = rec
        summary = self._resources.get(rec.resource_id)
        if summary is None:
            self._resources[rec.resource_id] = _ResourceSummary(rec)
        else:
            summary.update(rec)

    def corrupt(self, message_id, override):
        """Serve the record(s) of ``message_id`` with ``override`` applied
        to their JSON (see model.MISSING); returns how many."""
        with self.lock:
            recs = self.by_id(message_id)
            for rec in recs:
                rec.override = dict(override)
        return len(recs)

    # -- reading (hold self.lock) ------------------------------------------

    def meter_names(self):
        return list(self._series)

    def records(self, names=None, lo=None, hi=None, descending=True):
        """Records in key order (timestamp, then tie-break) in [lo, hi)."""
        names = self.meter_names() if names is None else names
        iters = []
        for name in names:
            series = self._series.get(name)
            if series is None:
                continue
            start, end = series.window(lo, hi)
            if start >= end:
                continue
            if descending:
                idx = range(end - 1, start - 1, -1)
            else:
                idx = range(start, end)
            iters.append(map(series.recs.__getitem__, idx))
        if len(iters) == 1:
            return iters[0]
        return heapq.merge(*iters, key=_KEY, reverse=descending)

    def count_window(self, names, lo, hi):
        total = 0
        for name in names:
            series = self._series.get(name)
            if series is not None:
                start, end = series.window(lo, hi)
                total += max(0, end - start)
        return total

    def by_id(self, message_id):
        found = self._by_id.get(message_id)
        if found is None:
            return []
        return list(found) if isinstance(found, list) else [found]

    def latest_per_pair(self):
        """Last inserted record of each (meter, resource): GET /v2/meters.

        Ordered like MySQL's GROUP BY meter_id, resource_id: meters in
        first-insertion order, then resource ids.
        """
        recs = list(self._latest_pair.values())
        recs.sort(key=lambda r: (r.meter.seq, r.resource_id))
        return recs

    def latest_per_meter(self):
        recs = list(self._latest_meter.values())
        recs.sort(key=lambda r: r.meter.seq)
        return recs

    def resource_summaries(self):
        return self._resources

    def latest_at(self, resource_id, timestamp):
        """Last inserted record of a resource at exactly that timestamp."""
        lo = model.lower_key(timestamp, strict=False)
        hi = model.upper_key(timestamp, inclusive=True)
        best = None
        for rec in self.records(None, lo, hi):
            if rec.resource_id == resource_id and (
                    best is None or rec.seq > best.seq):
                best = rec
        return best

"""How many samples the API holds, per UTC hour, for verify.

Where the mapping's filter is a simple query, the API counts them itself:
``GET /v2/meters/{meter}/statistics`` with ``period=3600`` from an
hour-aligned start (the driver's buckets start at the query's lower bound,
so a start inside an hour gets a request of its own). Otherwise every
sample is listed and counted here, with the same paging as the export
(``paging``): keyset paging in complex mode, windows in simple mode.
Reading only ``timestamp`` and ``message_id`` of each sample, so a sample
the export rejects is still counted.
"""

import collections
import datetime

from ceilometer_export import query
from ceilometer_export.source import paging
from ceilometer_export import timeutil

HOUR = datetime.timedelta(hours=1)
# Hours per statistics request: the SQL driver runs one query per period,
# so one request stays well inside the HTTP timeout.
_HOURS_PER_REQUEST = 24 * 7
_INITIAL_SPAN = datetime.timedelta(hours=1)


def floor_hour(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class ApiCounts(object):
    """Counting through one ``client.ApiClient``; ``mode()`` is the
    source's query mode (complex or simple)."""

    def __init__(self, api, page_size, mode):
        self._api = api
        self._page_size = page_size
        self._mode = mode

    def oldest(self, mapping, meter):
        """Timestamp of the oldest sample the filter selects, or None."""
        q = _simple_q(mapping)
        if q is not None:
            first = self._api.first_timestamp(meter, q)
            return first and timeutil.parse_api(first)
        rows = next(iter(self._rows(mapping, meter, None, None)), None)
        return rows and rows[0]['timestamp']

    def per_hour(self, mapping, meter, start, end):
        """{hour: samples} for ``start <= timestamp < end``; hours without
        samples are absent."""
        q = _simple_q(mapping)
        if q is None:
            counts = collections.Counter()
            for rows in self._rows(mapping, meter, start, end):
                counts.update(floor_hour(r['timestamp']) for r in rows)
            return dict(counts)
        found = {}
        for lo, hi in _requests(start, end):
            bounds = [_bound('ge', lo), _bound('lt', hi)]
            for stat in self._api.statistics(meter, q + bounds, 3600):
                hour = floor_hour(timeutil.parse_api(stat['period_start']))
                found[hour] = found.get(hour, 0) + int(stat['count'])
        return found

    def ids(self, mapping, meter, start, end):
        """Counter of the message ids the API lists in [start, end)."""
        found = collections.Counter()
        for rows in self._rows(mapping, meter, start, end):
            found.update(r['message_id'] for r in rows)
        return found

    def _rows(self, mapping, meter, start, end):
        """Pages of {'timestamp', 'message_id'}, ascending."""
        if self._mode() == 'complex':
            return self._keyset(mapping, meter, start, end)
        return self._windows(mapping, meter, start, end)

    def _keyset(self, mapping, meter, start, end):
        # Imported here: the package imports this module.
        from ceilometer_export.source import complex_filter
        base = mapping.query.complex_filter()

        def fetch(lower, after, limit):
            expr = complex_filter(base, meter, lower, after, end)
            page, _ = self._api.query_samples(expr, limit)
            return [_key(s, 'id') for s in page]
        return paging.keyset_pages(fetch, start, self._page_size)

    def _windows(self, mapping, meter, start, end):
        q = _simple_q(mapping) or []
        if start is None:
            start = self.oldest(mapping, meter)
            if start is None:
                return iter(())

        def fetch(lo, hi, limit):
            bounds = [_bound('ge', lo)] + ([_bound('le', hi)] if hi else [])
            return [_key(s, 'message_id') for s in
                    self._api.list_samples(meter, q + bounds, limit)]
        return paging.window_pages(fetch, start, self._page_size,
                                   _INITIAL_SPAN, timeutil.utcnow(), end)


def _simple_q(mapping):
    """The filter as a simple query, or None when it is not one."""
    try:
        return mapping.query.simple_q()
    except query.MappingError:
        return None


def _requests(start, end):
    """[lo, hi) statistics ranges covering [start, end): the first one
    ends at the first hour boundary, the others start on one."""
    lo = start
    while lo < end:
        aligned = floor_hour(lo) == lo
        hi = min(lo + HOUR * _HOURS_PER_REQUEST if aligned
                 else floor_hour(lo) + HOUR, end)
        yield lo, hi
        lo = hi


def _bound(op, moment):
    return {'field': 'timestamp', 'op': op, 'type': '',
            'value': timeutil.format_api(moment)}


def _key(sample, id_field):
    return {'timestamp': timeutil.parse_api(sample['timestamp']),
            'message_id': sample[id_field]}

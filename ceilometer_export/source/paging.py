"""Reading every sample of a meter through an API without pagination.

Pure decisions over a ``fetch`` callable, so they are unit-tested without
HTTP. Both strategies yield pages sorted by (timestamp, message_id), each
small enough to be written in one transaction, and never lose a sample at
a page edge however many samples share one timestamp.
"""

import datetime

MICROSECOND = datetime.timedelta(microseconds=1)
ZERO = datetime.timedelta(0)


def position(row):
    """(timestamp, message_id), or None for a rejected sample whose
    timestamp or id is unusable: paging steps over it."""
    if row['timestamp'] is None or row['message_id'] is None:
        return None
    return (row['timestamp'], row['message_id'])


def _sort_key(row):
    # Samples without a position go first; they never move a checkpoint.
    return position(row) or (datetime.datetime.min, '')


class OrderError(ValueError):
    """The API ignored the requested order: keyset paging would loop."""


def keyset_pages(fetch, lower, page_size):
    """Complex-query paging on the (timestamp, message_id) key.

    ``fetch(lower, after, limit)`` returns rows ascending by the key: with
    ``after`` None those at or after ``lower`` (None: from the oldest),
    otherwise those strictly after the position ``after``.
    """
    after = None
    while True:
        rows = fetch(lower, after, page_size)
        keys = [k for k in map(position, rows) if k is not None]
        if keys:
            _check_ascending(keys, after)
        if rows:
            yield rows
        if len(rows) < page_size:
            return
        if not keys:
            raise OrderError('a whole page of samples without a usable '
                             '(timestamp, message_id): cannot page on')
        after = keys[-1]


def _check_ascending(keys, after):
    if (after is not None and keys[0] <= after) or any(
            a > b for a, b in zip(keys, keys[1:])):
        raise OrderError('the API returned samples out of the requested '
                         '(timestamp, message_id) order')


def window_pages(fetch, lower, page_size, span, horizon, end=None):
    """Simple-query paging over time windows.

    ``fetch(lo, hi, limit)`` returns the newest ``limit`` rows with
    ``lo <= timestamp <= hi`` (``hi`` None: no upper bound), in any order.
    A full answer may have lost older rows to the limit, so the window is
    halved and read again; a single instant that still fills a page is read
    with a larger limit. Windows start at ``lower``; the last one is open
    unless ``end`` (exclusive) is given. ``horizon`` (now) only guides where
    an open window is split.
    """
    last = None if end is None else end - MICROSECOND
    lo = lower
    while last is None or lo <= last:
        hi = _upper(lo, span, horizon, last)
        rows = fetch(lo, hi, page_size)
        while len(rows) >= page_size and hi != lo:
            hi = _split(lo, hi, horizon, rows)
            span = hi - lo
            rows = fetch(lo, hi, page_size)
        if len(rows) >= page_size:
            rows = _whole_instant(fetch, lo, page_size)
        if rows:
            yield sorted(rows, key=_sort_key)
        if hi is None or hi == last:
            return
        lo = hi + MICROSECOND
        # Widen while windows come back less than half full; a window of
        # zero width (one instant) must not stay the norm.
        span = max(span * 2 if 2 * len(rows) < page_size else span,
                   MICROSECOND)


def _upper(lo, span, horizon, last):
    hi = lo + span
    if last is not None:
        return min(hi, last)
    return None if hi >= horizon else hi


def _split(lo, hi, horizon, rows):
    """Upper bound of a smaller window after a full answer.

    Half the window, and no later than just before the oldest row
    returned: everything newer than that row was complete, so the
    samples the limit cut off all lie at or before it.
    """
    known = [r['timestamp'] for r in rows if r['timestamp'] is not None]
    oldest = min(known) if known else lo
    if oldest <= lo:
        return lo
    top = hi if hi is not None else max(horizon, oldest)
    return min(lo + (top - lo) // 2, oldest - MICROSECOND)


def _whole_instant(fetch, instant, page_size):
    limit = page_size * 2
    while True:
        rows = fetch(instant, instant, limit)
        if len(rows) < limit:
            return rows
        limit *= 2

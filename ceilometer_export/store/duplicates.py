"""Which version of a message_id is kept when the API returns it twice.

Ceilometer does not enforce unique message ids, so one id can come back
with different contents. The version kept is the *latest*: the greatest
``timestamp``, then the greatest ``recorded_at`` (a missing one counts as
oldest), then the greatest canonical JSON text of the row, so the result
depends neither on the API's order nor on page edges. Within a page this
module picks it; across pages and passes the store never replaces a stored
version by one with an older timestamp.
"""

import datetime
import json

_OLDEST = datetime.datetime.min


def latest_versions(rows):
    """``rows`` with one row per message_id: the latest version."""
    ids = [row['message_id'] for row in rows]
    if len(set(ids)) == len(ids):
        return rows
    kept = {}
    for row in rows:
        ident = row['message_id']
        if ident not in kept or _rank(row) > _rank(kept[ident]):
            kept[ident] = row
    return list(kept.values())


def _rank(row):
    return (row['timestamp'], row.get('recorded_at') or _OLDEST,
            json.dumps(row, sort_keys=True, default=str))

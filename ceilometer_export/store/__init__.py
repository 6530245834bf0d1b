"""The target database: samples, dimension sets and checkpoints.

Knows SQL (through SQLAlchemy and ``dialects``), nothing of Keystone or
HTTP. Every page is written in ONE transaction together with the
checkpoint that covers it, so a crash at any instant leaves rows and
position consistent.
"""

import sqlalchemy as sa

from ceilometer_export import dimensions
from ceilometer_export import errors
from ceilometer_export.store import checkpoints
from ceilometer_export.store import dialects
from ceilometer_export.store import engine as engine_mod
from ceilometer_export.store import migration
from ceilometer_export.store import schema

_SAMPLE_UPDATE = [c.name for c in schema.samples.columns
                  if c.name != 'message_id']
_ID_CHUNK = 1000


class Store(object):

    def __init__(self, url, dim_filter=None):
        self.engine = engine_mod.make_engine(url)
        self.dim_filter = dim_filter or dimensions.DimensionFilter()

    @classmethod
    def from_conf(cls, conf):
        return cls(conf.database.connection,
                   dimensions.DimensionFilter.from_conf(conf))

    @property
    def safe_url(self):
        return engine_mod.safe(self.engine.url)

    def close(self):
        self.engine.dispose()

    # Schema ---------------------------------------------------------------
    def upgrade(self):
        return migration.upgrade(self.engine)

    def check_schema(self):
        """Refuse to work on a database that is not at the latest schema."""
        with self.engine.connect() as conn:
            current = migration.current_revision(conn)
        head = migration.head_revision()
        if current != head:
            raise errors.SchemaError(
                'database %s is at schema revision %s, not %s: run '
                'ceilometer-export-dbsync --config-file FILE first'
                % (self.safe_url, current or '(none)', head))

    # Checkpoints ----------------------------------------------------------
    def start_pair(self, mapping, meter, fingerprint):
        """Checkpoint of a pair, created or reset when the query changed.

        Returns (Checkpoint, 'new'|'reset'|'kept').
        """
        with self.engine.begin() as conn:
            state = checkpoints.ensure(conn, mapping, meter, fingerprint)
            return checkpoints.get(conn, mapping, meter), state

    def checkpoints(self):
        with self.engine.connect() as conn:
            return checkpoints.list_all(conn)

    def record_result(self, mapping, meter, error=None):
        with self.engine.begin() as conn:
            checkpoints.record_result(conn, mapping, meter, error)

    # Data -----------------------------------------------------------------
    def write_page(self, mapping, meter, rows, advance=True):
        """Upsert a page of samples; move the checkpoint to its last row.

        ``rows`` are sample dicts with the ``samples`` columns (without
        dimension_set_id). Returns the number of samples that were new.
        """
        if not rows:
            return 0
        samples, dim_rows = self._prepare(rows)
        with self.engine.begin() as conn:
            known = self._existing_ids(conn, [s['message_id']
                                              for s in samples])
            if dim_rows:
                dialects.upsert(conn, schema.dimensions, dim_rows,
                                keys=('set_id', 'key'))
            dialects.upsert(conn, schema.samples, samples,
                            keys=('message_id',), update=_SAMPLE_UPDATE)
            new = len(samples) - len(known)
            if advance:
                last = max(samples, key=_position)
                checkpoints.advance(conn, mapping, meter, _position(last),
                                    new)
            else:
                checkpoints.count(conn, mapping, meter, new)
        return new

    def _prepare(self, rows):
        # The API can return one message_id twice (Ceilometer does not
        # enforce uniqueness); one statement may not touch a row twice.
        by_id = {}
        dim_rows = {}
        for row in rows:
            pairs = dimensions.extract(row.get('resource_metadata'),
                                       self.dim_filter)
            set_id = dimensions.set_id(pairs)
            by_id[row['message_id']] = dict(row, dimension_set_id=set_id)
            for key, value in pairs:
                dim_rows[(set_id, key)] = {'set_id': set_id, 'key': key,
                                           'value': value}
        return list(by_id.values()), list(dim_rows.values())

    @staticmethod
    def _existing_ids(conn, ids):
        found = set()
        col = schema.samples.c.message_id
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start:start + _ID_CHUNK]
            found.update(conn.execute(
                sa.select(col).where(col.in_(chunk))).scalars())
        return found


def _position(sample):
    return (sample['timestamp'], sample['message_id'])

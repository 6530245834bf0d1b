"""Benchmark (not a test): ceilometer-export-verify over a large export.

    python tools/bench_verify.py URL [--samples 1000000] [--meters 5]

URL is an empty database (PostgreSQL for the figure in the README). The
same samples go into the bundled simulator (the API side) and, in bulk,
straight into the ``samples`` table with a checkpoint per pair (the
database side, as a complete export leaves it). Two mappings: every
sample, and ``metadata.instance_type=m1.small`` (a metadata filter the
database evaluates on the stored JSON). Then one ``verify`` run, as the
console script does it, timed; and the database side alone (one GROUP BY
per pair), timed. The run must find every hour equal.
"""

import argparse
import datetime
import io
import json
import random
import sys
import tempfile
import time

import sqlalchemy as sa

from ceilometer_export.cmd import verify
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import counts
from ceilometer_export.store import schema
from ceilometer_export.store import Store
from ceilometer_export import mappings

BASE = datetime.datetime(2024, 1, 1)
FLAVORS = ('m1.tiny', 'm1.small', 'm1.medium', 'm1.large')
QUERIES = {'all': '', 'small': 'metadata.instance_type=m1.small'}
CHUNK = 50000


def raw_samples(total, meters, seed=1):
    """Raw samples in chunks: 200 instances polled every 10 minutes."""
    rng = random.Random(seed)
    metas = [{'instance_type': rng.choice(FLAVORS), 'status': 'active',
              'host': 'compute-%02d' % (i % 40), 'memory_mb': 2048,
              'display_name': 'vm-%03d' % i} for i in range(200)]
    chunk = []
    for n in range(total):
        instance = n % 200
        cycle = n // (200 * meters)
        meter = 'meter.%d' % ((n // 200) % meters)
        chunk.append({
            'message_id': 'id-%09d' % n, 'counter_name': meter,
            'counter_type': 'gauge', 'counter_unit': '%',
            'counter_volume': float(n % 100), 'user_id': 'u-1',
            'project_id': 'p-%d' % (instance % 7),
            'resource_id': 'r-%03d' % instance, 'source': 'openstack',
            'timestamp': BASE + datetime.timedelta(
                seconds=600 * cycle + instance),
            'recorded_at': None, 'resource_metadata': metas[instance]})
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def copy_rows(engine, chunk):
    """The chunk into samples, as the exporter stores them (flattened
    metadata: string values)."""
    buf = io.StringIO()
    for s in chunk:
        meta = json.dumps({k: str(v) for k, v in
                           s['resource_metadata'].items()})
        buf.write('\t'.join((
            s['message_id'], s['counter_name'], 'gauge', '%',
            repr(s['counter_volume']), s['project_id'], s['resource_id'],
            s['user_id'], 'openstack', s['timestamp'].isoformat(), '\\N',
            meta.replace('\\', '\\\\'), '\\N')) + '\n')
    buf.seek(0)
    raw = engine.raw_connection()
    try:
        raw.cursor().copy_expert(
            'COPY samples (message_id, counter_name, counter_type, '
            'counter_unit, counter_volume, project_id, resource_id, user_id, '
            'source, timestamp, recorded_at, resource_metadata, '
            'dimension_set_id) FROM STDIN', buf)
        raw.commit()
    finally:
        raw.close()


def checkpoints(engine, last):
    rows = []
    for name, text in QUERIES.items():
        fingerprint = mappings.parse_mapping(
            name, {'query': text, 'meters': 'x'}).query.fingerprint()
        rows += [{'mapping': name, 'meter': meter, 'last_timestamp': ts,
                  'last_message_id': 'zzz', 'query_fingerprint': fingerprint,
                  'samples_exported': 0} for meter, ts in last.items()]
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.export_checkpoints), rows)


def config(path, sim, url, meters):
    names = ', '.join('meter.%d' % m for m in range(meters))
    lines = ['[service_credentials]', 'auth_type = password',
             'auth_url = %s/v3' % sim.keystone_url, 'username = admin',
             'password = admin', 'project_name = admin',
             'user_domain_name = Default', 'project_domain_name = Default',
             '[database]', 'connection = %s' % url,
             '[ceilometer]', 'query_mode = complex']
    for name, text in QUERIES.items():
        lines += ['[mapping:%s]' % name, 'query = %s' % text,
                  'meters = %s' % names]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('url')
    parser.add_argument('--samples', type=int, default=1000000)
    parser.add_argument('--meters', type=int, default=5)
    args = parser.parse_args()
    store = Store(args.url)
    store.upgrade()
    users = [{'name': 'admin', 'password': 'admin', 'project': 'admin',
              'roles': ['admin']}]
    with Simulator(samples=[], users=users) as sim:
        started = time.monotonic()
        last = {}
        for chunk in raw_samples(args.samples, args.meters):
            sim.add_samples(chunk)
            copy_rows(store.engine, chunk)
            for s in chunk:
                last[s['counter_name']] = max(
                    last.get(s['counter_name'], s['timestamp']),
                    s['timestamp'])
        checkpoints(store.engine, last)
        with store.engine.begin() as conn:
            conn.execute(sa.text('ANALYZE samples'))
        print('loaded %d samples (%d meters, %s .. %s) in %.0f s'
              % (args.samples, args.meters, BASE, max(last.values()),
                 time.monotonic() - started))
        conf = config(tempfile.mktemp(suffix='.conf'), sim, args.url,
                      args.meters)
        started = time.monotonic()
        code = verify.main(['--config-file', conf, '--format', 'json'])
        wall = time.monotonic() - started
        print('verify: exit %d in %.1f s (%d pairs, %d samples per mapping)'
              % (code, wall, len(last) * len(QUERIES), args.samples))
        started = time.monotonic()
        for name, text in QUERIES.items():
            tree = mappings.parse_mapping(name, {
                'query': text, 'meters': 'x'}).query.filter_tree()
            for meter in last:
                store.query(counts.per_hour, meter, tree, BASE,
                            last[meter] + datetime.timedelta(seconds=1))
        print('database side alone (one GROUP BY per pair): %.1f s'
              % (time.monotonic() - started))
    return code


if __name__ == '__main__':
    sys.exit(main())

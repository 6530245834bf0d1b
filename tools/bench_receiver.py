#!/usr/bin/env python3
"""Benchmark: sustained push intake of ceilometer-export-receiver.

N concurrent publishers (threads of this process, each with its own
keep-alive ``requests`` session, posting pre-serialised JSON batches with
the HTTP publisher's headers and Basic auth) push simulator samples with
realistic nested metadata into a receiver process on a fresh database.
Prints samples/s, p50/p99/max answer latency, and, measured in the same
run, COPY of the very rows the receiver stored (samples and dimensions)
into a second fresh database with the same schema: the ratio receiver /
COPY.

    python tools/bench_receiver.py --samples 40000 --publishers 8 \\
        --batch 50 postgresql+psycopg2://postgres@127.0.0.1/test
"""

import argparse
import io
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from ceilometer_export.simulator import generate_samples  # noqa: E402
from tools import benchmark  # noqa: E402

USER, PASSWORD = 'bench', 'bench-pass'
CONF = """
[database]
connection = {db}

[receiver]
host = 127.0.0.1
port = {port}
username = %s
password = %s

[mapping:all]
query =
meters = *
""" % (USER, PASSWORD)


def _batches(count, size):
    """JSON bodies of ``size`` publisher samples, ``count`` in all."""
    raw, cycles = [], 0
    while len(raw) < count:
        raw += generate_samples(seed=cycles, cycles=10, instances=40,
                                interval=60)
        cycles += 1
    bodies = []
    for start in range(0, count, size):
        bodies.append(json.dumps([{
            'name': s['counter_name'], 'type': s['counter_type'],
            'unit': s['counter_unit'], 'volume': s['counter_volume'],
            'user_id': s['user_id'], 'project_id': s['project_id'],
            'resource_id': s['resource_id'],
            'timestamp': s['timestamp'].isoformat(),
            'resource_metadata': s['resource_metadata'],
            'source': s['source'], 'id': s['message_id'],
            'monotonic_time': None, 'user_name': None, 'project_name': None}
            for s in raw[start:min(start + size, count)]]))
    return bodies


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _start_receiver(db, workdir):
    port = _free_port()
    conf = os.path.join(workdir, 'receiver.conf')
    with open(conf, 'w') as f:
        f.write(CONF.format(db=db, port=port))
    subprocess.run([benchmark.script('ceilometer-export-dbsync'),
                    '--config-file', conf], check=True, capture_output=True)
    log = open(os.path.join(workdir, 'receiver.log'), 'wb')
    proc = subprocess.Popen([benchmark.script(
        'ceilometer-export-receiver'), '--config-file', conf],
        stdout=log, stderr=log)
    base = 'http://127.0.0.1:%d' % port
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + '/healthcheck', timeout=1).ok:
                return proc, base, conf
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit('receiver did not come up: see %s' % log.name)


def _publish(base, bodies, publishers):
    work = queue.Queue()
    for body in bodies:
        work.put(body)
    latencies, failures = [], []

    def publisher():
        session = requests.Session()
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            answer = session.post(base + '/v1/samples', data=body,
                                  headers={'Content-type':
                                           'application/json'},
                                  auth=(USER, PASSWORD), timeout=5)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                failures.append(answer.status_code)

    threads = [threading.Thread(target=publisher) for _ in range(publishers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, failures


def _copy_reference(server_url, stored_db, workdir):
    """Seconds for COPY of the stored samples and dimensions rows into a
    fresh database with the same schema (rows read out beforehand)."""
    dumps = {}
    source = sa.create_engine(stored_db)
    with source.connect() as conn:
        cursor = conn.connection.cursor()
        for table in ('samples', 'dimensions'):
            buf = io.StringIO()
            cursor.copy_expert('COPY %s TO STDOUT' % table, buf)
            dumps[table] = buf.getvalue()
    source.dispose()
    target, drop = benchmark.fresh_database(server_url, workdir)
    conf = os.path.join(workdir, 'copy.conf')
    with open(conf, 'w') as f:
        f.write(CONF.format(db=target, port=1))
    subprocess.run([benchmark.script('ceilometer-export-dbsync'),
                    '--config-file', conf], check=True, capture_output=True)
    engine = sa.create_engine(target)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for table, text in dumps.items():
            cursor.copy_expert('COPY %s FROM STDIN' % table,
                               io.StringIO(text))
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
        drop()


def _count(db):
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        found = conn.execute(sa.text('SELECT count(*) FROM samples')).scalar()
    engine.dispose()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', help='PostgreSQL server URL (a fresh '
                        'database is created beside it)')
    parser.add_argument('--samples', type=int, default=40000)
    parser.add_argument('--publishers', type=int, default=8)
    parser.add_argument('--batch', type=int, default=50)
    args = parser.parse_args()
    bodies = _batches(args.samples, args.batch)
    with tempfile.TemporaryDirectory() as workdir:
        db, drop = benchmark.fresh_database(args.url, workdir)
        try:
            proc, base, _ = _start_receiver(db, workdir)
            try:
                wall, latencies, failures = _publish(base, bodies,
                                                     args.publishers)
            finally:
                proc.terminate()
                proc.wait(60)
            stored = _count(db)
            copy_seconds = _copy_reference(args.url, db, workdir)
        finally:
            drop()
    _report(args, stored, wall, latencies, failures, copy_seconds)


def _report(args, stored, wall, latencies, failures, copy_seconds):
    ordered = sorted(latencies)
    rate = stored / wall
    copy_rate = stored / copy_seconds
    print('receiver: %d samples (%d publishers x batches of %d) stored in '
          '%.2f s: %.0f samples/s; %d answers not 200'
          % (stored, args.publishers, args.batch, wall, rate, len(failures)))
    print('answer latency: p50 %.3f s, p99 %.3f s, max %.3f s'
          % (statistics.median(ordered),
             ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]))
    print('COPY of the same rows (samples + dimensions): %.2f s, %.0f '
          'samples/s' % (copy_seconds, copy_rate))
    print('ratio receiver / COPY: %.2f' % (rate / copy_rate))
    if stored != args.samples:
        print('WARNING: %d samples sent, %d stored' % (args.samples, stored))


if __name__ == '__main__':
    main()

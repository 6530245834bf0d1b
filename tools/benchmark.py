#!/usr/bin/env python3
"""Benchmark: a full ``ceilometer-export --once`` against its references.

The bundled simulator (its own process) serves N samples; in one run, in
alternating rounds, this measures on the same rows:

- export: ``ceilometer-export --once`` (the console script, its own
  process) into a fresh database, its peak RSS (VmHWM), its time per stage
  (``CEILOMETER_EXPORT_TIMINGS``), then the re-run of the same data
  (``--since`` before the first sample: every row a conflict);
- (a) bulk: the backend's bulk load of the ``samples`` rows alone into
  this schema with its indexes (PostgreSQL COPY, MariaDB LOAD DATA LOCAL
  INFILE, SQLite executemany in one transaction);
- (b) naive: the same load of the samples plus one row per metadata pair
  (the design ``dimensions`` sets replace);
- (c) download: a bare keyset download of the same pages (keystoneauth,
  one JSON decode per page, nothing else).

Ratios come from the same run, so a machine busy with other work shifts
all paths alike. Best of ``--rounds`` per path.

    python tools/benchmark.py --url postgresql+psycopg2://postgres@127.0.0.1/test
    python tools/benchmark.py --cloud --samples 200000 --url sqlite:///
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from keystoneauth1 import adapter
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import sqlalchemy as sa

from ceilometer_export import dimensions
from ceilometer_export.simulator import data as sim_data
from ceilometer_export import source
from ceilometer_export.source import samples as samples_mod
from ceilometer_export.store import engine as engine_mod
from ceilometer_export.store import pages
from ceilometer_export import timings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_loads  # noqa: E402  (the reference loads, next to this file)

CONF = """
{credentials}
[ceilometer]
page_size = {page_size}
query_mode = complex

[database]
connection = {db}

[mapping:all]
query =
meters = *
"""


def script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def simulator(args):
    ports = [str(free_port()), str(free_port())]
    cmd = [script('ceilometer-export-simulator'), '--port', ports[0],
           '--keystone-port', ports[1], '--seed', '1',
           '--samples', str(args.samples)]
    if args.cloud:
        cmd += ['--instances', '200']
    credentials = subprocess.run(cmd + ['--print-config'], check=True,
                                 capture_output=True, text=True).stdout
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(('127.0.0.1', int(ports[1]))) == 0:
                    break
            if proc.poll() is not None:
                raise SystemExit('the simulator exited %d' % proc.returncode)
            time.sleep(0.2)
        yield credentials, 'http://127.0.0.1:%s' % ports[0], \
            'http://127.0.0.1:%s/v3' % ports[1]
    finally:
        proc.terminate()
        proc.wait()


def api_adapter(keystone, endpoint):
    auth = v3.Password(auth_url=keystone, username='admin',
                       password='secret', project_name='admin',
                       user_domain_name='Default',
                       project_domain_name='Default')
    return adapter.Adapter(ks_session.Session(auth=auth),
                           service_type='metering', endpoint_override=endpoint)


def download(api, page_size, each_page=None):
    """Every sample, meter by meter, keyset-paged as the exporter pages;
    returns (samples, pages)."""
    total = count = 0
    order = json.dumps([{'timestamp': 'asc'}, {'message_id': 'asc'}])
    for meter in sim_data.ALL_METERS:
        after = None
        while True:
            expr = source.complex_filter(None, meter, None, after, None)
            page = api.post('/v2/query/samples', json={
                'filter': json.dumps(expr), 'orderby': order,
                'limit': page_size}).json()
            total, count = total + len(page), count + 1
            if each_page is not None and page:
                each_page(meter, page)
            if len(page) < page_size:
                break
            last = samples_mod.from_sample(page[-1], meter)
            after = (last['timestamp'], last['message_id'])
    return total, count


def write_load_files(api, args, workdir):
    """The rows of the references, as COPY text files: samples (the
    exporter's own row encoding) and the naive design's metadata pairs."""
    preparer = pages.Preparer('postgresql', dimensions.DimensionFilter())
    paths = (os.path.join(workdir, 'samples.tsv'),
             os.path.join(workdir, 'pairs.tsv'))
    with open(paths[0], 'w') as smp, open(paths[1], 'w') as pairs:
        def each_page(meter, page):
            rows = [samples_mod.from_sample(s, meter) for s in page]
            smp.write(preparer.prepare(rows).payload)
            for row in rows:
                for key, value in dimensions.extract(
                        row['resource_metadata'],
                        dimensions.DimensionFilter()):
                    pairs.write('%s\t%s\t%s\n' % tuple(
                        bench_loads.escape(v) for v in
                        (row['message_id'], key, value)))
        total, _ = download(api, args.page_size, each_page)
    return total, paths


def fresh_database(url, workdir):
    """A new empty database beside the one named by url; (url, drop)."""
    parsed = engine_mod.parse_url(url)
    if parsed.get_backend_name() == 'sqlite':
        path = os.path.join(workdir, 'bench-%s.sqlite' % uuid.uuid4().hex)
        return 'sqlite:///' + path, lambda: os.unlink(path)
    name = 'cebench_%s' % uuid.uuid4().hex[:10]
    admin = sa.create_engine(parsed, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % name))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE %s' % name))
        admin.dispose()
    return parsed.set(database=name).render_as_string(False), drop


def dbsync(conf):
    subprocess.run([script('ceilometer-export-dbsync'), '--config-file',
                    conf], check=True, capture_output=True)


def run_export(conf, extra, workdir):
    """(seconds, peak RSS KiB, timings) of one ceilometer-export --once."""
    report = os.path.join(workdir, 'timings.json')
    env = dict(os.environ, **{timings.ENVIRONMENT: report})
    started = time.perf_counter()
    proc = subprocess.Popen([script('ceilometer-export'), '--config-file',
                             conf, '--once'] + extra, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, peak_rss_kib(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit('ceilometer-export exited %d: %s' % (
            proc.returncode, proc.stderr.read().decode()[-2000:]))
    with open(report) as f:
        return seconds, peak, json.load(f)


def peak_rss_kib(pid):
    # VmHWM: the process's own high-water mark since exec (getrusage on
    # children would count the parent's pages copied by fork).
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def exporter_database(args, credentials, workdir):
    """A fresh database with the current schema and the exporter's config
    file naming it: yields (config path, database URL), then drops it."""
    db, drop = fresh_database(args.url, workdir)
    try:
        conf = os.path.join(workdir, 'bench.conf')
        with open(conf, 'w') as f:
            f.write(CONF.format(credentials=credentials, db=db,
                                page_size=args.page_size))
        dbsync(conf)
        yield conf, db
    finally:
        drop()


def export_round(args, credentials, workdir):
    with exporter_database(args, credentials, workdir) as (conf, _):
        first = run_export(conf, [], workdir)
        again = run_export(conf, ['--since', '2000-01-01T00:00:00'],
                           workdir)
        return first, again


def export_only(args):
    """One export alone (no references, no re-run): for large N, whose
    references take long; its rate, peak RSS and stages."""
    with tempfile.TemporaryDirectory() as workdir, \
            simulator(args) as (credentials, _, _):
        with exporter_database(args, credentials, workdir) as (conf, db):
            seconds, rss, stages = run_export(conf, [], workdir)
            engine = sa.create_engine(db)
            with engine.connect() as conn:
                total = conn.execute(sa.text(
                    'SELECT count(*) FROM samples')).scalar()
            engine.dispose()
    return {'backend': sa.engine.make_url(args.url).get_backend_name(),
            'samples': total, 'page_size': args.page_size,
            'cloud': '200-instances' if args.cloud else 'default',
            'export_seconds': round(seconds, 2),
            'samples_per_s': round(total / seconds),
            'peak_rss_mib': round(rss / 1024, 1),
            'export_stages_s': {s: round(v['seconds'], 2)
                                for s, v in stages['stages'].items()},
            'export_elapsed_s': round(stages['elapsed'], 2)}


def print_export_only(report):
    print('%(samples)d samples (%(cloud)s cloud), %(backend)s, page '
          '%(page_size)d, export only: %(samples_per_s)d samples/s in '
          '%(export_seconds).2f s, exporter peak RSS (VmHWM) '
          '%(peak_rss_mib).1f MiB' % report)
    print('  exporter time per stage (s; two threads, elapsed %.2f):'
          % report['export_elapsed_s'])
    print('   ', '  '.join('%s %.2f' % kv
                           for kv in report['export_stages_s'].items()))


def timed_load(load, args, files, workdir):
    db, drop = fresh_database(args.url, workdir)
    try:
        engine = bench_loads.engine_for(db)
        conf = os.path.join(workdir, 'load.conf')
        with open(conf, 'w') as f:
            f.write('[database]\nconnection = %s\n' % db)
        dbsync(conf)
        return load(engine, files)
    finally:
        engine.dispose()
        drop()


def measure(args):
    results = {k: [] for k in ('export', 'rerun', 'bulk', 'naive',
                               'download')}
    extra = {'rss_kib': [], 'timings': [], 'pages': None}
    with tempfile.TemporaryDirectory() as workdir, \
            simulator(args) as (credentials, endpoint, keystone):
        api = api_adapter(keystone, endpoint)
        total, files = write_load_files(api, args, workdir)
        for _ in range(args.rounds):
            (first, rss, stages), (again, _, _) = export_round(
                args, credentials, workdir)
            results['export'].append(first)
            results['rerun'].append(again)
            extra['rss_kib'].append(rss)
            extra['timings'].append(stages)
            results['bulk'].append(timed_load(
                bench_loads.bulk, args, files, workdir))
            results['naive'].append(timed_load(
                bench_loads.naive, args, files, workdir))
            started = time.perf_counter()
            _, extra['pages'] = download(api, args.page_size)
            results['download'].append(time.perf_counter() - started)
    return total, results, extra


def summary(args, total, results, extra):
    rate = {k: total / min(v) for k, v in results.items()}
    best = min(range(args.rounds), key=lambda i: results['export'][i])
    stages = extra['timings'][best]
    backend = sa.engine.make_url(args.url).get_backend_name()
    return {
        'backend': backend, 'samples': total, 'page_size': args.page_size,
        'cloud': '200-instances' if args.cloud else 'default',
        'rounds': args.rounds, 'pages': extra['pages'],
        'samples_per_s': {k: round(v) for k, v in rate.items()},
        'seconds': {k: [round(s, 2) for s in v] for k, v in results.items()},
        'ratios': {
            'export/bulk': round(rate['export'] / rate['bulk'], 3),
            'export/naive': round(rate['export'] / rate['naive'], 3),
            'export/download': round(rate['export'] / rate['download'], 3),
            'rerun/export': round(rate['rerun'] / rate['export'], 3)},
        'peak_rss_mib': round(max(extra['rss_kib']) / 1024, 1),
        'export_stages_s': {s: round(v['seconds'], 2)
                            for s, v in stages['stages'].items()},
        'export_elapsed_s': round(stages['elapsed'], 2),
    }


def print_table(report):
    print('%(samples)d samples (%(cloud)s cloud), %(backend)s, page %('
          'page_size)d, %(pages)d pages, best of %(rounds)d rounds' % report)
    for name, label in [('export', 'ceilometer-export --once'),
                        ('rerun', 're-run (all conflicts)'),
                        ('bulk', '(a) bulk load of samples rows'),
                        ('naive', '(b) naive: samples + pair rows'),
                        ('download', '(c) bare keyset download')]:
        print('  %-32s %9d samples/s   %s s' % (
            label, report['samples_per_s'][name],
            ' '.join('%.2f' % s for s in report['seconds'][name])))
    for name, value in report['ratios'].items():
        print('  %-32s %9.3f' % (name, value))
    print('  exporter peak RSS (VmHWM)        %9.1f MiB'
          % report['peak_rss_mib'])
    print('  exporter time per stage (s; two threads, elapsed %.2f):'
          % report['export_elapsed_s'])
    stages = report['export_stages_s'].items()
    print('   ', '  '.join('%s %.2f' % kv for kv in stages))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', default='sqlite:///',
                        help='database server/URL to create the benchmark '
                             'databases beside (default: SQLite files)')
    parser.add_argument('--samples', type=int, default=200000)
    parser.add_argument('--page-size', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--cloud', action='store_true',
                        help='a 200-instance cloud (500+ distinct dimension '
                             'sets) instead of the default 8 instances')
    parser.add_argument('--export-only', action='store_true',
                        help='only one export (rate, peak RSS, stages), '
                             'no references: for large --samples')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    if args.export_only:
        report = export_only(args)
        show = print_export_only
    else:
        report = summary(args, *measure(args))
        show = print_table
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        show(report)


if __name__ == '__main__':
    main()

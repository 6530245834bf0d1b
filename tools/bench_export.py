#!/usr/bin/env python3
"""Benchmark: a full ``ceilometer-export --once`` from the simulator.

Prints samples exported per second for each database URL given (default: a
temporary SQLite file). The exporter runs as its own process, as in
production; the simulator serves from this one.

    python tools/bench_export.py --samples 100000 \
        postgresql+psycopg2://postgres@127.0.0.1/test \
        mysql+pymysql://root@127.0.0.1/test
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator

CONF = """
[service_credentials]
auth_type = password
auth_url = {keystone}/v3
username = admin
password = secret
project_name = admin
user_domain_name = Default
project_domain_name = Default

[ceilometer]
page_size = {page_size}
query_mode = {mode}

[database]
connection = {db}

[mapping:all]
query =
meters = *
"""


def fresh_database(url, workdir):
    """A new empty database beside the one named by url."""
    if url is None:
        return 'sqlite:///%s' % os.path.join(workdir, 'bench.sqlite'), None
    url = sa.engine.make_url(url)
    name = 'cebench_%s' % uuid.uuid4().hex[:10]
    admin = sa.create_engine(url, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    return url.set(database=name).render_as_string(False), (admin, name)


def drop(created):
    if created:
        admin, name = created
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE %s' % name))


def script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def run_once(sim, db, args, workdir):
    conf = os.path.join(workdir, 'bench.conf')
    with open(conf, 'w') as f:
        f.write(CONF.format(keystone=sim.keystone_url, db=db,
                            page_size=args.page_size, mode=args.mode))
    subprocess.run([script('ceilometer-export-dbsync'), '--config-file',
                    conf], check=True, capture_output=True)
    started = time.perf_counter()
    proc = subprocess.Popen([script('ceilometer-export'), '--config-file',
                             conf, '--once'], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _peak_rss_kib(proc.pid))
        time.sleep(0.1)
    if proc.returncode != 0:
        raise SystemExit('ceilometer-export exited %d' % proc.returncode)
    return time.perf_counter() - started, peak


def _peak_rss_kib(pid):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('urls', nargs='*', help='database URLs')
    parser.add_argument('--samples', type=int, default=50000)
    parser.add_argument('--page-size', type=int, default=1000)
    parser.add_argument('--mode', default='complex',
                        choices=('complex', 'simple'))
    args = parser.parse_args()
    data = generate_samples(seed=1, cycles=max(1, args.samples // 64))
    print('%d samples, page_size %d, %s mode'
          % (len(data), args.page_size, args.mode))
    with Simulator(samples=data) as sim:
        for url in args.urls or [None]:
            with tempfile.TemporaryDirectory() as workdir:
                db, created = fresh_database(url, workdir)
                try:
                    seconds, peak = run_once(sim, db, args, workdir)
                finally:
                    drop(created)
            backend = sa.engine.make_url(db).get_backend_name()
            print('%-10s %8.1f s  %8.0f samples/s  peak RSS %.0f MiB'
                  % (backend, seconds, len(data) / seconds, peak / 1024))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Benchmark: how long one ``ceilometer-export --once`` pass stalls behind a
broken meter or a broken endpoint, with N mappings.

Each scenario runs the exporter as its own process against the bundled
simulator (SQLite target); the stall is the pass's wall time minus that of
a fault-free pass measured in the same run with the same N. Printed beside
it: the bound README.rst documents, for the settings used.

    python tools/bench_faults.py --mappings 1 3 10 --timeout 2 \
        --max-retries 2 --retry-delay 0.5
    python tools/bench_faults.py --mappings 3 --timeout 60 \
        --max-retries 5 --retry-delay 1 --only endpoint    # the defaults
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator

METERS = 'cpu_util, disk.read.bytes, network.incoming.bytes'

CONF = """
[service_credentials]
auth_type = password
auth_url = {keystone}/v3
username = admin
password = secret
project_name = admin
user_domain_name = Default
project_domain_name = Default
timeout = {timeout}

[ceilometer]
max_retries = {retries}
retry_delay = {delay}
max_retry_delay = 30
query_mode = complex
{endpoint}

[database]
connection = sqlite:///{db}
"""


def write_conf(workdir, sim, args, mappings, endpoint=''):
    stem = os.path.join(workdir, 'bench-%d' % time.monotonic_ns())
    db = stem + '.sqlite'
    text = CONF.format(keystone=sim.keystone_url, timeout=args.timeout,
                       retries=args.max_retries, delay=args.retry_delay,
                       endpoint=endpoint, db=db)
    # Only m0 reads memory.usage: the meter broken in one mapping.
    text += ''.join('\n[mapping:m%d]\nquery =\nmeters = %s%s\n' % (
        i, 'memory.usage, ' if i == 0 else '', METERS)
        for i in range(mappings))
    path = stem + '.conf'
    with open(path, 'w') as conf:
        conf.write(text)
    script = os.path.join(os.path.dirname(sys.executable),
                          'ceilometer-export-dbsync')
    subprocess.run([script, '--config-file', path], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def timed_pass(conf):
    script = os.path.join(os.path.dirname(sys.executable),
                          'ceilometer-export')
    started = time.monotonic()
    code = subprocess.run([script, '--config-file', conf, '--once'],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode
    return time.monotonic() - started, code


def ladder(args, request_seconds):
    """Worst case of one request's retries: attempts x request time plus
    the backoffs (jitter takes 50-100 % of each)."""
    backoff = sum(min(30.0, args.retry_delay * 2 ** i)
                  for i in range(args.max_retries))
    return (args.max_retries + 1) * request_seconds + backoff


SCENARIOS = {
    'hung meter in m0 only (delay > timeout)':
        lambda sim, a: sim.faults.fail_meter('memory.usage', 'delay',
                                             delay=a.timeout * 5),
    'hung meter in every mapping':
        lambda sim, a: sim.faults.fail_meter('cpu_util', 'delay',
                                             delay=a.timeout * 5),
    'failing meter in every mapping (504)':
        lambda sim, a: sim.faults.fail_meter('cpu_util', 504),
    'API failing (every request 500/503)':
        lambda sim, a: setattr(sim.faults, 'error_rate', 1.0),
    'endpoint down (connection refused)': None,
}


def bound(name, args, mappings):
    """README's bound: a ladder per broken pair, one per pass when the
    whole API is down."""
    if 'm0 only' in name:
        return ladder(args, args.timeout)
    if name.startswith('hung'):
        return mappings * ladder(args, args.timeout)
    if name.startswith('failing'):
        return mappings * ladder(args, 0)
    return ladder(args, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mappings', type=int, nargs='+', default=[1, 3])
    parser.add_argument('--timeout', type=float, default=2.0)
    parser.add_argument('--max-retries', type=int, default=2)
    parser.add_argument('--retry-delay', type=float, default=0.5)
    parser.add_argument('--only', metavar='TEXT',
                        help='only the scenarios whose name contains TEXT')
    args = parser.parse_args()
    print('settings: timeout %.1f s, max_retries %d, retry_delay %.1f s'
          % (args.timeout, args.max_retries, args.retry_delay))
    print('%-40s %4s %9s %9s %9s %9s %5s' % (
        'scenario', 'N', 'pass s', 'clean s', 'stall s', 'bound s', 'exit'))
    with tempfile.TemporaryDirectory() as workdir, Simulator(
            samples=generate_samples(seed=1, cycles=4)) as sim:
        for mappings in args.mappings:
            # Caught up first: every pass then re-reads only its lookback.
            conf = write_conf(workdir, sim, args, mappings)
            timed_pass(conf)
            clean, _ = timed_pass(conf)
            down = write_conf(workdir, sim, args, mappings,
                              'endpoint_override = http://127.0.0.1:9')
            for name, inject in SCENARIOS.items():
                if args.only and args.only not in name:
                    continue
                if inject is not None:
                    inject(sim, args)
                seconds, code = timed_pass(conf if inject else down)
                sim.faults.clear()
                print('%-40s %4d %9.2f %9.2f %9.2f %9.2f %5d' % (
                    name, mappings, seconds, clean, seconds - clean,
                    bound(name, args, mappings), code))


if __name__ == '__main__':
    main()

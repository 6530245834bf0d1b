#!/usr/bin/env python
"""How fast the simulator serves 1,000-sample pages (not a test).

Pages are fetched with python-ceilometerclient over a keystoneauth1
session, the way the exporter reads them:

- simple: ``GET /v2/meters/cpu_util?limit=1000`` walking back in time
  windows (``timestamp < T``) so each page is a different slice;
- complex: ``POST /v2/query/samples`` limit 1000 ordered
  ``timestamp asc, message_id asc``, keyset-paged with the exporter's filter.

It prints samples/s and pages/s for each, with 1 and ``--threads`` client
threads, plus the server-side time per page measured in-process. By default
the simulator runs in its own process (as it does next to an exporter), so
the client rate is not limited by sharing the simulator's GIL.

    python tools/bench_simulator.py [--instances 400] [--cycles 60]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

from ceilometerclient import client as ceilo_client
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session

from ceilometer_export.simulator import Simulator
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import wire

PAGE = 1000


def make_client(sim):
    auth = loading.get_plugin_loader('password').load_from_options(
        auth_url=sim.keystone_url + '/v3', username='admin',
        password='secret', project_name='admin',
        user_domain_name='Default', project_domain_name='Default')
    sess = ks_session.Session(auth=auth, timeout=60)
    return ceilo_client.get_client('2', session=sess, interface='public')


def simple_pages(cc, newest, seconds):
    """GET pages walking back in time; returns (pages, samples)."""
    pages = samples = 0
    upper = newest
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        q = [{'field': 'timestamp', 'op': 'lt', 'value': upper}]
        page = cc.samples.list(meter_name='cpu_util', q=q, limit=PAGE)
        if len(page) < PAGE:
            upper = newest
            continue
        pages += 1
        samples += len(page)
        upper = page[-1].timestamp
    return pages, samples


def complex_pages(cc, seconds):
    """Keyset-paged complex query pages; returns (pages, samples)."""
    pages = samples = 0
    last = None
    deadline = time.monotonic() + seconds
    orderby = json.dumps([{'timestamp': 'asc'}, {'message_id': 'asc'}])
    while time.monotonic() < deadline:
        cond = [{'=': {'meter': 'cpu_util'}}]
        if last is not None:
            cond.append({'or': [
                {'>': {'timestamp': last[0]}},
                {'and': [{'=': {'timestamp': last[0]}},
                         {'>': {'message_id': last[1]}}]}]})
        filt = cond[0] if len(cond) == 1 else {'and': cond}
        page = cc.query_samples.query(filter=json.dumps(filt),
                                      orderby=orderby, limit=PAGE)
        if len(page) < PAGE:
            last = None
            continue
        pages += 1
        samples += len(page)
        last = (page[-1].timestamp, page[-1].id)
    return pages, samples


def run_clients(sim, threads, seconds, work):
    results = []
    clients = [make_client(sim) for _ in range(threads)]
    for cc in clients:
        work(cc, 0)    # authenticate before the clock starts

    def worker(cc):
        results.append(work(cc, seconds))
    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(cc,)) for cc in clients]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - started
    pages = sum(r[0] for r in results)
    samples = sum(r[1] for r in results)
    return pages / elapsed, samples / elapsed


def server_side(sim, token, count=50):
    """Mean seconds the API spends building one 1,000-sample page."""
    api = sim._services[0]._server.app
    headers = {'X-Auth-Token': token, 'Host': '127.0.0.1'}
    req = wire.Request('GET', '/v2/meters/cpu_util?limit=%d' % PAGE, headers)
    started = time.perf_counter()
    for _ in range(count):
        api(req)
    sim.request_log.clear()
    return (time.perf_counter() - started) / count


class _Remote(object):
    """A simulator started with the CLI in a child process."""

    def __init__(self, args):
        ports = [_free_port(), _free_port()]
        self.ceilometer_url = 'http://127.0.0.1:%d' % ports[0]
        self.keystone_url = 'http://127.0.0.1:%d' % ports[1]
        cmd = [sys.executable, '-m', 'ceilometer_export.cmd.simulator',
               '--port', str(ports[0]), '--keystone-port', str(ports[1]),
               '--instances', str(args.instances), '--cycles',
               str(args.cycles), '--projects', '10']
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self._proc = subprocess.Popen(cmd, cwd=root,
                                      stderr=subprocess.DEVNULL)
        self._wait(ports)

    def _wait(self, ports):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                for port in ports:
                    socket.create_connection(('127.0.0.1', port), 1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError('simulator did not start')

    def stop(self):
        self._proc.terminate()
        self._proc.wait(10)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def measure(sim, args):
    cc = make_client(sim)
    newest = cc.samples.list(meter_name='cpu_util', limit=1)[0].timestamp
    for name, work in (
            ('GET /v2/meters/cpu_util?limit=1000',
             lambda c, s: simple_pages(c, newest, s)),
            ('POST /v2/query/samples limit 1000', complex_pages)):
        for threads in sorted({1, args.threads}):
            pps, sps = run_clients(sim, threads, args.seconds, work)
            print('%-36s %d client thread(s): %8.0f samples/s %6.1f pages/s'
                  % (name, threads, sps, pps))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--instances', type=int, default=400)
    parser.add_argument('--cycles', type=int, default=60)
    parser.add_argument('--seconds', type=float, default=5.0)
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--in-process', action='store_true',
                        help='run the simulator in this process too')
    args = parser.parse_args()
    started = time.monotonic()
    samples = generate_samples(instances=args.instances, cycles=args.cycles,
                               projects=10)
    print('%d samples (generated in %.1fs)' % (len(samples),
                                               time.monotonic() - started))
    with Simulator(samples=samples) as sim:
        token = make_client(sim).http_client.session.get_token()
        per_page = server_side(sim, token)
        print('server-side time per %d-sample GET page: %.1f ms (%.0f '
              'samples/s on one core)'
              % (PAGE, 1000 * per_page, PAGE / per_page))
        if args.in_process:
            measure(sim, args)
            return
    remote = _Remote(args)
    try:
        measure(remote, args)
    finally:
        remote.stop()


if __name__ == '__main__':
    main()

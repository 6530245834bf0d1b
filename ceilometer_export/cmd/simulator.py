"""ceilometer-export-simulator: a Ceilometer v2 + Keystone simulator.

``serve`` (the default) runs the simulator in the foreground; ``append``
posts samples to a running one through ``POST /v2/meters/{name}``.
"""
import argparse
import datetime
import itertools
import logging
import random
import signal
import sys
import threading

from oslo_utils import timeutils

from ceilometer_export import service

DEFAULT_START = '2024-01-01T00:00:00'


def _rate(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError('must be between 0 and 1')
    return value


def _user(text):
    parts = text.split(':')
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise argparse.ArgumentTypeError(
            'expected NAME:PASSWORD:PROJECT[:ROLE[,ROLE...]]')
    roles = parts[3].split(',') if len(parts) == 4 and parts[3] else ['member']
    return {'name': parts[0], 'password': parts[1], 'project': parts[2],
            'roles': roles, 'domain': 'Default'}


def _csv(text):
    return [item.strip() for item in text.split(',') if item.strip()]


def _add_data_options(parser):
    group = parser.add_argument_group('generated data')
    group.add_argument('--seed', type=int, default=0,
                       help='seed of the data generator, of the tie order of '
                            'equal timestamps and of random faults '
                            '(default: %(default)s)')
    group.add_argument('--cycles', type=int, default=24,
                       help='polling cycles to generate; all samples of a '
                            'cycle share one timestamp (default: '
                            '%(default)s)')
    group.add_argument('--samples', type=int, metavar='N',
                       help='generate at least N samples (sets --cycles)')
    group.add_argument('--interval', type=int, default=600,
                       help='seconds between polling cycles (default: '
                            '%(default)s)')
    group.add_argument('--start', default=DEFAULT_START,
                       help="timestamp of the first cycle (naive UTC ISO "
                            "8601), or 'now' to end the data at the current "
                            "time (default: %(default)s)")
    group.add_argument('--projects', type=int, default=3,
                       help='projects (p-alpha-0001, p-beta-0002, ...) '
                            '(default: %(default)s)')
    group.add_argument('--instances', type=int, default=8,
                       help='Nova instances (cpu_util, cpu, cpu.delta, '
                            'memory.usage, disk.read.bytes, instance, '
                            'network.incoming.bytes per vNIC) '
                            '(default: %(default)s)')
    group.add_argument('--images', type=int, default=2,
                       help='Glance images (image.size) (default: '
                            '%(default)s)')
    group.add_argument('--containers', type=int, default=2,
                       help='Swift containers (storage.objects) (default: '
                            '%(default)s)')
    group.add_argument('--meters', type=_csv, metavar='NAME[,NAME...]',
                       help='only generate these meters')
    group.add_argument('--jitter', action='store_true',
                       help='spread the samples of a cycle over distinct '
                            'timestamps instead of one shared timestamp')
    group.add_argument('--empty', action='store_true',
                       help='start with an empty store')
    group.add_argument('--live-interval', type=float, default=0.0,
                       metavar='SECONDS',
                       help='while serving, append a new polling cycle '
                            "stamped 'now' every SECONDS (default: off)")


def _add_api_options(parser):
    group = parser.add_argument_group('API behaviour')
    group.add_argument('--default-limit', type=int, default=100,
                       help='[api] default_api_return_limit: rows returned '
                            'when a request sends no limit (default: '
                            '%(default)s)')
    group.add_argument('--no-complex-query', action='store_true',
                       help='behave like a driver without complex queries '
                            '(HBase): capabilities say samples:query:complex '
                            'false and POST /v2/query/samples answers 501')
    group.add_argument('--gnocchi', action='store_true',
                       help='Gnocchi dispatcher mode: meters, resources, '
                            'samples and query URLs answer 410 Gone')


def _add_auth_options(parser):
    group = parser.add_argument_group('Keystone')
    group.add_argument('--user', dest='users', type=_user, action='append',
                       metavar='NAME:PASSWORD:PROJECT[:ROLES]',
                       help="a user (repeatable; ROLES is comma-separated, "
                            "'admin' sees every project). Replaces the "
                            "defaults admin:secret:admin:admin and "
                            "demo:demopass:p-alpha-0001:member. Project ids "
                            "equal project names")
    group.add_argument('--token-ttl', type=float, default=3600,
                       metavar='SECONDS',
                       help='token lifetime (default: %(default)s)')
    group.add_argument('--token-max-uses', type=int, metavar='N',
                       help='a token is refused (401) after N Ceilometer '
                            'requests (default: unlimited)')


def _add_fault_options(parser):
    group = parser.add_argument_group(
        'fault injection (Ceilometer requests only, drawn per request)')
    group.add_argument('--error-rate', type=_rate, default=0.0,
                       metavar='FRACTION',
                       help='fraction answered 500 (JSON fault) or 503 '
                            '(load-balancer HTML page), half each')
    group.add_argument('--delay', type=float, default=0.0, metavar='SECONDS',
                       help='delay applied to delayed requests; make it '
                            "longer than the client's timeout")
    group.add_argument('--delay-rate', type=_rate, default=0.0,
                       metavar='FRACTION',
                       help='fraction of requests delayed by --delay')
    group.add_argument('--drop-rate', type=_rate, default=0.0,
                       metavar='FRACTION',
                       help='fraction of connections closed without a '
                            'response')
    group.add_argument('--truncate-rate', type=_rate, default=0.0,
                       metavar='FRACTION',
                       help='fraction of responses whose body is cut in half')
    group.add_argument('--nonjson-rate', type=_rate, default=0.0,
                       metavar='FRACTION',
                       help='fraction answered 200 with an HTML body')
    group.add_argument('--fault-seed', type=int,
                       help='seed of the fault draws (default: --seed)')


def append_parser(prog='ceilometer-export-simulator append'):
    parser = argparse.ArgumentParser(
        prog=prog, description='Append samples to a running simulator (or '
        'any Ceilometer v2 API) through POST /v2/meters/{name}, using an '
        'admin token. Each sample copies the newest sample of an existing '
        '(meter, resource) pair; all get one timestamp, --late seconds in '
        'the past (late samples).')
    parser.add_argument('--url', default='http://127.0.0.1:8777',
                        help='Ceilometer API base URL (default: '
                             '%(default)s)')
    parser.add_argument('--auth-url', default='http://127.0.0.1:5000/v3',
                        help='Keystone v3 URL (default: %(default)s)')
    parser.add_argument('--username', default='admin',
                        help='user with the admin role (default: '
                             '%(default)s)')
    parser.add_argument('--password', default='secret',
                        help='its password (default: %(default)s)')
    parser.add_argument('--project', default='admin',
                        help='project name (default: %(default)s)')
    parser.add_argument('--domain', default='Default',
                        help='user and project domain (default: '
                             '%(default)s)')
    parser.add_argument('--count', type=int, default=100,
                        help='samples to append (default: %(default)s)')
    parser.add_argument('--meter', dest='meters', type=_csv, action='append',
                        metavar='NAME[,NAME...]',
                        help='meters to append to, repeatable (default: '
                             'every meter)')
    parser.add_argument('--late', type=float, default=0.0, metavar='SECONDS',
                        help='timestamp the samples SECONDS before now '
                             '(default: %(default)s)')
    parser.add_argument('--timestamp',
                        help='explicit naive UTC timestamp (overrides '
                             '--late)')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed of the appended volumes')
    return parser


def serve_parser(prog='ceilometer-export-simulator'):
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Serve a simulated Ceilometer v2 API and Keystone (v3 '
        'and v2.0 password auth)\non loopback, with a deterministic '
        'generated cloud.\n\nSubcommands: serve (the default, options '
        'below) and append (see the end).',
        epilog='The append subcommand:\n\n' + append_parser().format_help())
    parser.add_argument('--version', action='version',
                        version=service.version())
    group = parser.add_argument_group('listening')
    group.add_argument('--host', default='127.0.0.1',
                       help='address to bind (default: %(default)s)')
    group.add_argument('--port', type=int, default=8777,
                       help='Ceilometer API port, 0 for any (default: '
                            '%(default)s)')
    group.add_argument('--keystone-port', type=int, default=5000,
                       help='Keystone port, 0 for any (default: '
                            '%(default)s)')
    group.add_argument('--print-config', action='store_true',
                       help='print a [service_credentials]/[ceilometer] '
                            'snippet for ceilometer-export pointing at this '
                            'simulator, then exit')
    group.add_argument('--debug', action='store_true',
                       help='log every request on stderr')
    _add_data_options(parser)
    _add_api_options(parser)
    _add_auth_options(parser)
    _add_fault_options(parser)
    return parser


def config_snippet(host, port, keystone_port, users):
    from ceilometer_export.simulator import identity
    specs = users or identity.DEFAULT_USERS
    user = next((u for u in specs if 'admin' in u['roles']), specs[0])
    base = 'http://%s:%d' % (host, keystone_port)
    return '\n'.join([
        '[service_credentials]',
        'auth_type = password',
        'auth_url = %s/v3' % base,
        'username = %s' % user['name'],
        'password = %s' % user['password'],
        'project_name = %s' % user['project'],
        'user_domain_name = %s' % user.get('domain', 'Default'),
        'project_domain_name = %s' % user.get('domain', 'Default'),
        'region_name = RegionOne',
        'interface = public',
        '',
        '[ceilometer]',
        '# The endpoint comes from the Keystone catalog (type metering):',
        '# endpoint_override = http://%s:%d' % (host, port),
        ''])


def _start_time(args, cycles):
    if args.start == 'now':
        now = timeutils.utcnow().replace(microsecond=0)
        return now - datetime.timedelta(seconds=args.interval * (cycles - 1))
    return timeutils.normalize_time(timeutils.parse_isotime(args.start))


def _cloud(args):
    from ceilometer_export.simulator import data
    return data.CloudModel(seed=args.seed, projects=args.projects,
                           instances=args.instances, images=args.images,
                           containers=args.containers, meters=args.meters)


def _generate(args, cloud):
    from ceilometer_export.simulator import data
    if args.empty:
        return []
    cycles = args.cycles
    if args.samples:
        per_cycle = max(len(data.run_cycles(_cloud(args), datetime.datetime(
            2024, 1, 1), 1, args.interval, args.jitter)), 1)
        cycles = -(-args.samples // per_cycle)
    return data.run_cycles(cloud, _start_time(args, cycles), cycles,
                           args.interval, args.jitter)


def _faults(args):
    from ceilometer_export.simulator import faults
    seed = args.seed if args.fault_seed is None else args.fault_seed
    return faults.Faults(seed=seed, error_rate=args.error_rate,
                         delay=args.delay, delay_rate=args.delay_rate,
                         drop_rate=args.drop_rate,
                         truncate_rate=args.truncate_rate,
                         nonjson_rate=args.nonjson_rate)


def serve(args):
    if args.print_config:
        print(config_snippet(args.host, args.port, args.keystone_port,
                             args.users))
        return 0
    from ceilometer_export.simulator import Simulator
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(message)s')
    cloud = _cloud(args)
    sim = Simulator(samples=_generate(args, cloud), seed=args.seed,
                    default_limit=args.default_limit,
                    complex_query=not args.no_complex_query,
                    gnocchi=args.gnocchi, users=args.users,
                    token_ttl=args.token_ttl,
                    token_max_uses=args.token_max_uses, host=args.host,
                    port=args.port, keystone_port=args.keystone_port,
                    faults=_faults(args), request_log_size=1000)
    try:
        sim.start()
    except OSError as exc:
        sys.stderr.write('cannot listen on %s: %s\n' % (args.host, exc))
        return 2
    if args.live_interval > 0:
        sim.start_live(args.live_interval, cloud=cloud)
    sys.stderr.write('Ceilometer v2 API: %s  Keystone: %s/v3 (and /v2.0)\n'
                     '%d samples loaded. Ctrl-C to stop.\n'
                     % (sim.ceilometer_url, sim.keystone_url,
                        len(sim.store)))
    _wait_for_signal()
    sim.stop()
    return 0


def _wait_for_signal():
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


def append(args):
    from keystoneauth1 import exceptions as ks_exc
    try:
        count, stamp = _append(args)
    except (ks_exc.ClientException, ValueError) as exc:
        sys.stderr.write('append failed: %s\n' % exc)
        return 1
    print('appended %d samples with timestamp %s to %s'
          % (count, stamp, args.url))
    return 0


def _session(args):
    from keystoneauth1 import loading
    from keystoneauth1 import session
    auth = loading.get_plugin_loader('password').load_from_options(
        auth_url=args.auth_url, username=args.username,
        password=args.password, project_name=args.project,
        user_domain_name=args.domain, project_domain_name=args.domain)
    return session.Session(auth=auth, timeout=60)


def _append(args):
    sess = _session(args)
    url = args.url.rstrip('/')
    meters = sess.get(url + '/v2/meters', params={'limit': 100000}).json()
    wanted = set(itertools.chain(*args.meters)) if args.meters else None
    pairs = [m for m in meters if wanted is None or m['name'] in wanted]
    if not pairs:
        raise ValueError('no (meter, resource) pair to append to')
    if args.timestamp:
        stamp = timeutils.normalize_time(timeutils.parse_isotime(
            args.timestamp))
    else:
        stamp = timeutils.utcnow() - datetime.timedelta(seconds=args.late)
    templates = _templates(sess, url, pairs)
    rng = random.Random(args.seed)
    posts = {}
    for i in range(args.count):
        template = templates[i % len(templates)]
        posts.setdefault(template['counter_name'], []).append(
            _derive(template, stamp, rng))
    for name, body in posts.items():
        sess.post('%s/v2/meters/%s' % (url, name), json=body,
                  params={'direct': 'True'})
    return args.count, stamp.isoformat()


def _templates(sess, url, pairs):
    """The newest sample of each (meter, resource) pair."""
    found = []
    for name in sorted({p['name'] for p in pairs}):
        resources = {p['resource_id'] for p in pairs if p['name'] == name}
        newest = sess.get('%s/v2/meters/%s' % (url, name),
                          params={'limit': max(len(resources) * 4, 10)}).json()
        seen = set()
        for sample in newest:
            if sample['resource_id'] in resources and \
                    sample['resource_id'] not in seen:
                seen.add(sample['resource_id'])
                found.append(sample)
    if not found:
        raise ValueError('no samples to use as templates')
    return found


def _derive(template, stamp, rng):
    volume = template['counter_volume']
    if template['counter_type'] == 'cumulative':
        volume += rng.randint(0, 10 ** 6)
    elif template['counter_type'] == 'gauge' and template['counter_unit'] \
            == '%':
        volume = round(rng.uniform(0, 100), 3)
    keep = ('counter_name', 'counter_type', 'counter_unit', 'user_id',
            'project_id', 'resource_id', 'resource_metadata')
    sample = dict((k, template[k]) for k in keep)
    sample.update(counter_volume=volume, timestamp=stamp.isoformat(),
                  source=template['source'].split(':')[-1])
    return sample


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['append']:
        return append(append_parser().parse_args(argv[1:]))
    if argv[:1] == ['serve']:
        argv = argv[1:]
    return serve(serve_parser().parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())

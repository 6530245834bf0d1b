"""Every option of ceilometer-export, declared once.

``list_opts()`` is the single source for registration (``service.py``) and
for ``oslo-config-generator`` (the ``oslo.config.opts`` entry point).
Mapping sections (``[mapping:NAME]``) have dynamic names and are described in
``mappings.py``; they are validated there, not registered here.
"""

import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

CEILOMETER_OPTS = [
    cfg.StrOpt('endpoint_override',
               help='Ceilometer API base URL (without /v2). When empty the '
                    'endpoint of service type "metering" is taken from the '
                    'Keystone catalog.'),
    cfg.IntOpt('page_size', default=1000, min=1,
               help='The "limit" sent with every sample request. The API '
                    'has no pagination and silently caps un-limited '
                    'requests at 100, so a limit is always sent.'),
    cfg.StrOpt('query_mode', default='auto',
               choices=[('auto', 'complex when GET /v2/capabilities '
                                 'reports samples:query:complex'),
                        ('complex', 'POST /v2/query/samples, keyset paging '
                                    'on (timestamp, message_id)'),
                        ('simple', 'GET /v2/meters/{name} over time '
                                   'windows split until they fit a page')],
               help='How samples are read from the API.'),
    cfg.IntOpt('max_retries', default=5, min=0,
               help='Retries of one API request after a 5xx, a timeout, a '
                    'dropped connection or an unreadable body. After them '
                    'the mapping fails for this pass; the others go on.'),
    cfg.FloatOpt('retry_delay', default=1.0, min=0,
                 help='First backoff delay in seconds; doubled per retry, '
                      'with jitter, up to max_retry_delay.'),
    cfg.FloatOpt('max_retry_delay', default=30.0, min=0,
                 help='Cap of the backoff delay in seconds.'),
    cfg.StrOpt('admin_role', default='admin',
               help='The Keystone role that lets the API show the samples '
                    'of every project. A token without it sees only its '
                    'own project: that is logged as a warning, shown by '
                    'ceilometer-export-status, and refused with [export] '
                    'require_admin = true.'),
]

DATABASE_OPTS = [
    cfg.StrOpt('connection', secret=True,
               sample_default='sqlite:////var/lib/ceilometer-export/'
                              'export.sqlite',
               help='Required, no default. ''SQLAlchemy URL of the target database: '
                    'sqlite:///PATH, postgresql+psycopg2://USER:PASS@HOST/DB '
                    'or mysql+pymysql://USER:PASS@HOST/DB (postgresql:// '
                    'and mysql:// mean the same drivers).'),
    # oslo.db's names and meanings, so that shared files read the same.
    cfg.IntOpt('max_retries', default=-1, min=-1,
               help='Connection attempts at start-up of the daemon while '
                    'the database is unreachable (-1: wait until it is '
                    'reachable or SIGTERM). ceilometer-export --once waits '
                    'at most db_max_retries instead.'),
    cfg.FloatOpt('retry_interval', default=10.0, min=0,
                 help='Seconds between two of those start-up attempts.'),
    cfg.IntOpt('db_max_retries', default=5, min=0,
               help='Retries of one transaction (a page with its '
                    'checkpoint) after a transient error: connection lost, '
                    'server restarted, deadlock, serialization failure, '
                    'SQLite busy. Each retry runs the whole transaction '
                    'again on a fresh connection.'),
    cfg.FloatOpt('db_retry_interval', default=0.5, min=0,
                 help='First delay in seconds before such a retry; doubled '
                      'per retry, with jitter.'),
    cfg.FloatOpt('db_max_retry_interval', default=10.0, min=0,
                 help='Cap of that delay in seconds.'),
]

EXPORT_OPTS = [
    cfg.IntOpt('poll_interval', default=60, min=1,
               help='Seconds between the starts of two export passes (the '
                    'blueprint\'s "query loop delay").'),
    cfg.IntOpt('lookback', default=600, min=0,
               help='Seconds re-read behind the checkpoint on every pass, '
                    'to catch samples that reach Ceilometer late. The '
                    'upsert makes the overlap harmless.'),
    cfg.StrOpt('start_time',
               help='ISO 8601 time where a new checkpoint starts (an offset '
                    'is converted to UTC). Empty: the oldest sample.'),
    cfg.IntOpt('verify_interval', default=0, min=0,
               help='Seconds between the daemon\'s own verify and repair '
                    'runs over the last verify_window seconds (what '
                    'ceilometer-export-verify --repair does), so that '
                    'samples reaching Ceilometer later than lookback are '
                    'exported after all. 0: off.'),
    cfg.IntOpt('verify_window', default=172800, min=3600,
               help='How far behind now (seconds) those runs look.'),
    cfg.IntOpt('stop_timeout', default=30, min=1,
               help='Seconds SIGTERM/SIGINT may take: the page being '
                    'written is committed first; a request or a backoff in '
                    'progress is abandoned at once (nothing of it was '
                    'written). Keep systemd\'s TimeoutStopSec above it.'),
    cfg.BoolOpt('require_admin', default=False,
                help='Refuse to start (exit 2) when the token lacks '
                     '[ceilometer] admin_role, i.e. when the API would show '
                     'one project only.'),
]

DIMENSIONS_OPTS = [
    cfg.ListOpt('include', default=['*'],
                help='Shell-style patterns of metadata keys that become '
                     'dimensions.'),
    cfg.ListOpt('exclude', default=[],
                help='Shell-style patterns of metadata keys that never '
                     'become dimensions (applied after include).'),
    cfg.IntOpt('max_value_length', default=255, min=1, max=512,
               help='Longer values (in characters) are not dimensions; '
                    'they stay in samples.resource_metadata only.'),
]

COORDINATION_OPTS = [
    cfg.StrOpt('backend_url', secret=True,
               help='tooz URL (redis://, etcd3+http://, zookeeper://) used '
                    'to share the mappings between several workers, each '
                    'exporting the mappings the hash ring gives it. Empty: '
                    'this worker exports every mapping.'),
    cfg.StrOpt('group', default='ceilometer-export',
               help='tooz group the workers of one deployment join. '
                    'Deployments sharing one backend need distinct groups, '
                    'or they take each other\'s mappings.'),
]

METRICS_OPTS = [
    cfg.PortOpt('port',
                help='TCP port of the daemon\'s Prometheus endpoint '
                     '(/metrics). Empty: no endpoint. --once and the other '
                     'commands never open it.'),
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Address the Prometheus endpoint binds to.'),
]

RECEIVER_OPTS = [
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Address ceilometer-export-receiver listens on '
                            '(loopback by default; put a TLS-terminating '
                            'proxy or the ssl_* options in front of any '
                            'other).'),
    cfg.PortOpt('port', default=8777,
                help='Port of the receiver: the old ceilometer-api port, '
                     'free on clouds without the v2 API.'),
    cfg.StrOpt('username',
               help='HTTP Basic user name the publisher must send (the '
                    'user of user:pass@ in its URL). Empty: no '
                    'authentication. Letters, digits and '
                    "._~!$&'()*+,;=- only: the publisher sends it "
                    'literally.'),
    cfg.StrOpt('password', secret=True,
               help='HTTP Basic password (required with username; the '
                    'same characters).'),
    cfg.IntOpt('max_body_bytes', default=10485760, min=1,
               help='Larger request bodies are answered 413, unread.'),
    cfg.IntOpt('threads', default=32, min=1,
               help='Request threads of the built-in WSGI server (cheroot). '
                    'Concurrent requests share database transactions, so '
                    'threads mostly wait; the publisher runs up to '
                    '[DEFAULT] max_parallel_requests (64) at once.'),
    cfg.StrOpt('ssl_cert_file',
               help='PEM certificate (chain) to serve HTTPS directly; '
                    'empty: plain HTTP (e.g. behind a TLS-terminating '
                    'proxy).'),
    cfg.StrOpt('ssl_key_file',
               help='PEM private key of ssl_cert_file.'),
]

CREDENTIALS_EXTRA_OPTS = [
    cfg.StrOpt('region_name', help='Region of the metering endpoint.'),
    cfg.StrOpt('interface', default='public',
               choices=('public', 'internal', 'admin'),
               help='Catalog interface of the metering endpoint.'),
]

# The sections whose options belong to this project: an option there that
# is not declared is a configuration error, never silently ignored.
STRICT_GROUPS = {
    'ceilometer': CEILOMETER_OPTS,
    'database': DATABASE_OPTS,
    'export': EXPORT_OPTS,
    'dimensions': DIMENSIONS_OPTS,
    'coordination': COORDINATION_OPTS,
    'receiver': RECEIVER_OPTS,
    'metrics': METRICS_OPTS,
}

CREDENTIALS_GROUP = 'service_credentials'
# keystoneauth's session option has no default: one hung request would
# block the daemon for ever (design section 12).
REQUEST_TIMEOUT = 60.0


def set_credentials_defaults(conf):
    conf.set_default('timeout', REQUEST_TIMEOUT, group=CREDENTIALS_GROUP)


def _credentials_opts():
    # The password plugin's options are listed so that the sample config
    # shows the usual ones; the plugin actually loaded follows auth_type.
    auth = (ks_loading.get_auth_common_conf_options()
            + ks_loading.get_auth_plugin_conf_options('password'))
    unique = {o.dest: o for o in auth}
    session = copy.deepcopy(ks_loading.get_session_conf_options())
    for opt in session:
        if opt.dest == 'timeout':
            opt.default = REQUEST_TIMEOUT
            opt.help = ('Seconds an HTTP request (Keystone or Ceilometer) may '
                        'take before it fails and is retried.')
    return list(unique.values()) + session + CREDENTIALS_EXTRA_OPTS


def list_opts():
    """Options by group, for registration and oslo-config-generator."""
    return [
        ('ceilometer', CEILOMETER_OPTS),
        ('database', DATABASE_OPTS),
        ('export', EXPORT_OPTS),
        ('dimensions', DIMENSIONS_OPTS),
        ('coordination', COORDINATION_OPTS),
        ('receiver', RECEIVER_OPTS),
        ('metrics', METRICS_OPTS),
        (CREDENTIALS_GROUP, _credentials_opts()),
    ]


def all_option_names(group):
    """Names (and deprecated names) accepted in a strict group."""
    names = set()
    for opt in STRICT_GROUPS[group]:
        names.add(opt.dest)
        names.update(d.name for d in opt.deprecated_opts if d.name)
    return names

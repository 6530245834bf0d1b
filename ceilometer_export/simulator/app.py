"""The Simulator: a store, a Keystone and a Ceilometer API on loopback."""
import datetime
import threading

from oslo_utils import timeutils

from ceilometer_export.simulator import ceilometer
from ceilometer_export.simulator import data
from ceilometer_export.simulator import faults as faults_mod
from ceilometer_export.simulator import identity
from ceilometer_export.simulator import keystone
from ceilometer_export.simulator import model
from ceilometer_export.simulator import server
from ceilometer_export.simulator import store as store_mod


class Options(object):
    """Settings the API reads on every request (settable at runtime)."""

    def __init__(self, default_limit, complex_query, gnocchi):
        self.default_limit = default_limit
        self.complex_query = complex_query
        self.gnocchi = gnocchi
        # The API without authtoken (a client with auth_type = none).
        self.noauth = False


class RequestLog(list):
    """A list that forgets its oldest entries beyond ``maxlen``."""

    def __init__(self, maxlen=None):
        super(RequestLog, self).__init__()
        self.maxlen = maxlen

    def append(self, entry):
        super(RequestLog, self).append(entry)
        if self.maxlen is not None and len(self) > self.maxlen * 1.1:
            del self[:len(self) - self.maxlen]


class Simulator(object):
    """Ceilometer v2 + Keystone simulator.

    ``samples=None`` loads ``generate_samples(seed=seed)``; pass ``[]`` for
    an empty store. Ports 0 let the OS choose. ``request_log`` keeps the
    last ``request_log_size`` Ceilometer requests (None: all).
    """

    def __init__(self, samples=None, seed=0, default_limit=100,
                 complex_query=True, gnocchi=False, users=None,
                 token_ttl=3600, token_max_uses=None, host='127.0.0.1',
                 port=0, keystone_port=0, faults=None,
                 request_log_size=100000):
        self.seed = seed
        self.host = host
        self._ports = (port, keystone_port)
        self.options = Options(default_limit, complex_query, gnocchi)
        self.store = store_mod.SampleStore(seed=seed)
        self.identity = identity.Identity(users, token_ttl, token_max_uses)
        self.faults = faults or faults_mod.Faults(seed=seed)
        self.request_log = RequestLog(request_log_size)
        self._services = None
        self._live = None
        if samples is None:
            samples = data.generate_samples(seed=seed)
        self.add_samples(samples)

    # -- settings ------------------------------------------------------------

    complex_query = property(
        lambda self: self.options.complex_query,
        lambda self, value: setattr(self.options, 'complex_query', value))
    gnocchi = property(
        lambda self: self.options.gnocchi,
        lambda self, value: setattr(self.options, 'gnocchi', value))
    noauth = property(
        lambda self: self.options.noauth,
        lambda self, value: setattr(self.options, 'noauth', value))
    default_limit = property(
        lambda self: self.options.default_limit,
        lambda self, value: setattr(self.options, 'default_limit', value))

    # -- lifecycle -------------------------------------------------------------

    def start(self):
        api = ceilometer.CeilometerApi(self.store, self.identity, self.faults,
                                       self.options, lambda: self.keystone_url,
                                       self.request_log)
        ks = keystone.Keystone(self.identity, lambda: (self.ceilometer_url,
                                                       self.keystone_url))
        ceilo_srv = server.HttpService(api, self.host, self._ports[0])
        try:
            ks_srv = server.HttpService(ks, self.host, self._ports[1])
        except OSError:
            ceilo_srv.stop()
            raise
        self._services = (ceilo_srv, ks_srv)
        for service in self._services:
            service.start()
        return self

    def stop(self):
        self.stop_live()
        if self._services:
            for service in self._services:
                service.stop()
            self._services = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def ceilometer_url(self):
        return self._url(0)

    @property
    def keystone_url(self):
        return self._url(1)

    def _url(self, index):
        if not self._services:
            raise RuntimeError('simulator not started')
        service = self._services[index]
        return 'http://%s:%d' % (service.host, service.port)

    # -- data -------------------------------------------------------------------

    def add_samples(self, samples):
        """Append raw samples (see generate_samples); thread-safe."""
        return len(self.store.add(samples))

    def samples(self):
        """Every stored sample as GET /v2/meters/{name} renders it."""
        with self.store.lock:
            recs = list(self.store.records(None, descending=False))
        return [model.old_sample(r) for r in recs]

    def corrupt(self, message_id, fields):
        """Serve sample ``message_id`` malformed: each OldSample field in
        ``fields`` is emitted with that value instead (``model.MISSING``: left out;
        ``bytes``: spliced into the body raw, e.g. b'"caf\\xe9"'). Both
        sample renderings (GET /v2/meters/NAME and the Sample form) get
        it; the record still filters and sorts by its real fields."""
        if not self.store.corrupt(message_id, fields):
            raise KeyError(message_id)

    def expire_tokens(self):
        """Invalidate every issued token now."""
        self.identity.expire_all()

    # -- live polling ------------------------------------------------------------

    def start_live(self, interval=60.0, cloud=None, **cloud_args):
        """Append a polling cycle stamped 'now' every ``interval`` seconds.

        ``cloud`` is the data.CloudModel to advance (pass the one that
        generated the initial data to continue its counters); otherwise
        one is built from ``cloud_args`` and the simulator's seed.
        """
        self.stop_live()
        if cloud is None:
            cloud_args.setdefault('seed', self.seed)
            cloud = data.CloudModel(**cloud_args)
        self._live = _LivePoller(self, interval, cloud)
        self._live.start()

    def stop_live(self):
        if self._live is not None:
            self._live.stop()
            self._live = None


class _LivePoller(threading.Thread):
    def __init__(self, sim, interval, cloud):
        super(_LivePoller, self).__init__(name='simulator-live', daemon=True)
        self._sim = sim
        self._interval = interval
        self._cloud = cloud
        self._stopped = threading.Event()

    def run(self):
        while not self._stopped.wait(self._interval):
            now = timeutils.utcnow()
            now -= datetime.timedelta(microseconds=now.microsecond)
            self._sim.add_samples(self._cloud.cycle(
                now, interval=int(self._interval)))

    def stop(self):
        self._stopped.set()
        self.join(5)

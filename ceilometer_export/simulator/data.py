"""Deterministic generator of a realistic little cloud's samples.

Every polling cycle gives all of its samples one identical timestamp (the
hard case for an exporter paging on timestamps), unless ``jitter`` spreads
them over the cycle's first seconds the way the recorded examples are.
Metadata carries the keys real Nova, Glance and Swift samples carry, typed
and nested (flavor, image_meta.properties.*, lists, None, booleans, a
``OS-EXT-AZ:availability_zone`` key, long strings) and changes rarely, so
most samples of a resource share one metadata set.
"""
import base64
import datetime
import hashlib
import random
import uuid

GREEK = ('alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta',
         'theta', 'iota', 'kappa', 'lambda', 'mu')
PEOPLE = ('alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi',
          'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert',
          'sybil', 'trent', 'victor', 'walter', 'wendy')
FLAVORS = (('1', 'm1.tiny', 512, 1, 1), ('2', 'm1.small', 2048, 1, 20),
           ('3', 'm1.medium', 4096, 2, 40), ('4', 'm1.large', 8192, 4, 80),
           ('5', 'm1.xlarge', 16384, 8, 160))
INSTANCE_METERS = (('cpu_util', 'gauge', '%'), ('cpu', 'cumulative', 'ns'),
                   ('cpu.delta', 'delta', 'ns'),
                   ('memory.usage', 'gauge', 'MB'),
                   ('disk.read.bytes', 'cumulative', 'B'),
                   ('instance', 'gauge', 'instance'))
VNIC_METERS = (('network.incoming.bytes', 'cumulative', 'B'),)
IMAGE_METERS = (('image.size', 'gauge', 'B'),)
CONTAINER_METERS = (('storage.objects', 'gauge', 'object'),)
ALL_METERS = tuple(m[0] for m in INSTANCE_METERS + VNIC_METERS +
                   IMAGE_METERS + CONTAINER_METERS)
_UUID_EPOCH = datetime.datetime(1582, 10, 15)
_ONE_US = datetime.timedelta(microseconds=1)


def project_id(index):
    return 'p-%s-%04d' % (GREEK[index % len(GREEK)], index + 1)


def user_id(index):
    return 'u-%s' % PEOPLE[index % len(PEOPLE)]


class _Ids(object):
    """Seeded uuid4 and uuid1-shaped ids."""

    def __init__(self, rng):
        self._rng = rng
        self._node = rng.getrandbits(48) | (1 << 40)
        self._clock_seq = rng.getrandbits(14)
        self._last_ticks = 0

    def uuid4(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hexstr(self, length):
        return '%0*x' % (length, self._rng.getrandbits(4 * length))

    def uuid1(self, when):
        """A uuid1 as the collector would have made it at ``when``."""
        # Like uuid.uuid1(): never reuse a tick, so ids stay unique.
        ticks = max((when - _UUID_EPOCH) // _ONE_US * 10, self._last_ticks + 1)
        self._last_ticks = ticks
        fields = (ticks & 0xffffffff, (ticks >> 32) & 0xffff,
                  ((ticks >> 48) & 0x0fff) | 0x1000,
                  0x80 | (self._clock_seq >> 8), self._clock_seq & 0xff,
                  self._node)
        return str(uuid.UUID(fields=fields))


class _Instance(object):
    def __init__(self, index, project, user, ids, rng, image):
        self.index = index
        self.project = project
        self.user = user
        self.id = ids.uuid4()
        self.flavor = FLAVORS[index % 4]
        self.host = 'compute-%d' % (index % 3)
        self.host_hash = hashlib.sha224(
            (project + self.host).encode()).hexdigest()
        self.image = image
        self.status = 'active'
        self.baseline = rng.uniform(5, 90)
        self.cpu_ns = rng.randint(10 ** 9, 10 ** 12) * 1.0
        self.disk_bytes = rng.randint(10 ** 6, 10 ** 9) * 1.0
        self.user_data = (base64.b64encode(rng.randbytes(330)).decode()
                          if index % 3 == 0 else None)
        self.vnics = [_Vnic(self, ids, rng) for _ in range(1 + index % 2)]
        self.metadata = None

    def refresh_metadata(self):
        fid, fname, ram, vcpus, disk = self.flavor
        image = self.image
        meta = {
            'display_name': 'vm-%d' % self.index,
            'name': 'instance-%08x' % (self.index + 1),
            'instance_id': self.id,
            'instance_type': fname,
            'instance_type_id': int(fid),
            'host': self.host_hash,
            'instance_host': self.host,
            'OS-EXT-AZ:availability_zone': 'nova',
            'flavor': {'id': fid, 'name': fname, 'ram': ram, 'vcpus': vcpus,
                       'disk': disk, 'ephemeral': 0, 'swap': 0},
            'image': {'id': image.id, 'links': [
                {'href': 'http://controller:8774/images/%s' % image.id,
                 'rel': 'bookmark'}]},
            'image_ref': image.id,
            'image_ref_url': 'http://controller:8774/images/%s' % image.id,
            'image_meta': {'base_image_ref': image.id,
                           'container_format': 'bare', 'disk_format': 'qcow2',
                           'min_disk': '1', 'min_ram': '0',
                           'os_type': image.os_type,
                           'properties': {'hw_disk_bus': 'virtio',
                                          'hw_vif_model': 'virtio'}},
            'memory_mb': ram, 'vcpus': vcpus, 'root_gb': disk, 'disk_gb': disk,
            'ephemeral_gb': 0, 'kernel_id': None, 'ramdisk_id': None,
            'status': self.status,
            'state': 'running' if self.status == 'active' else 'stopped',
            'task_state': None, 'os_type': image.os_type,
            'architecture': 'x86_64', 'auto_disk_config': False,
            'reservation_id': 'r-%08d' % (self.index * 7919 % 10 ** 8),
            'metadata': {'role': ('web', 'db', 'batch')[self.index % 3]},
        }
        if self.user_data:
            meta['user_data'] = self.user_data
        self.metadata = meta
        for vnic in self.vnics:
            vnic.refresh_metadata()


class _Vnic(object):
    def __init__(self, instance, ids, rng):
        self.instance = instance
        self.name = 'tap' + ids.uuid4()[:11]
        self.id = 'instance-%08x-%s-%s' % (instance.index + 1, instance.id,
                                           self.name)
        self.mac = 'fa:16:3e:%02x:%02x:%02x' % tuple(rng.randbytes(3))
        self.rx_bytes = rng.randint(10 ** 5, 10 ** 8) * 1.0
        self.metadata = None

    def refresh_metadata(self):
        inst = self.instance
        self.metadata = {
            'instance_id': inst.id, 'instance_type': inst.flavor[1],
            'name': self.name, 'vnic_name': self.name, 'mac': self.mac,
            'fref': None, 'display_name': 'vm-%d' % inst.index,
            'host': inst.host_hash, 'image_ref': inst.image.id,
            'parameters': {'projectnet': '10.0.%d.0/24' % inst.index,
                           'dhcpserver': '10.0.%d.2' % inst.index},
        }


class _Image(object):
    def __init__(self, index, project, ids, rng):
        self.index = index
        self.project = project
        self.id = ids.uuid4()
        self.os_type = 'linux' if index % 3 else 'windows'
        self.size = rng.randint(12, 900) * 1048576 + rng.randint(0, 4095)
        name = 'cirros-0.%d.%d-x86_64-disk' % (4 + index % 2, index)
        self.metadata = {
            'name': name, 'display_name': name, 'disk_format': 'qcow2',
            'container_format': 'bare', 'size': self.size,
            'status': 'active', 'is_public': index % 2 == 0,
            'protected': False, 'deleted': False, 'deleted_at': None,
            'checksum': ids.hexstr(32), 'min_disk': 0, 'min_ram': 0,
            'owner': project,
            'properties': {'architecture': 'x86_64',
                           'hw_qemu_guest_agent': 'yes',
                           'description': ('Stock test image %d. ' % index)
                           * 16},
        }


class _Container(object):
    def __init__(self, index, project, rng):
        self.name = 'container-%d' % index
        self.project = project
        self.id = '%s/%s' % (project, self.name)
        self.objects = rng.randint(0, 5000)
        self.metadata = {'container': self.name,
                         'account': 'AUTH_%s' % project,
                         'storage_policy': 'Policy-0'}


class CloudModel(object):
    """The resources of a cloud and their counters, one cycle at a time."""

    def __init__(self, seed=0, projects=3, instances=8, images=2,
                 containers=2, meters=None):
        self._rng = random.Random('cloud-%s' % seed)
        self._ids = _Ids(self._rng)
        self.meters = set(ALL_METERS if meters is None else meters)
        self.projects = [project_id(i) for i in range(max(projects, 1))]
        self.images = [_Image(i, self.projects[i % len(self.projects)],
                              self._ids, self._rng) for i in range(images)]
        if not self.images:
            self.images = [_Image(0, self.projects[0], self._ids, self._rng)]
            self._emit_images = False
        else:
            self._emit_images = True
        self.instances = [self._instance(i) for i in range(instances)]
        self.containers = [
            _Container(i, self.projects[i % len(self.projects)], self._rng)
            for i in range(containers)]
        self.cycles_done = 0

    def _instance(self, index):
        nproj = len(self.projects)
        pidx = index % nproj
        user = user_id(2 * pidx + (index // nproj) % 2)
        inst = _Instance(index, self.projects[pidx], user, self._ids,
                         self._rng, self.images[index % len(self.images)])
        inst.refresh_metadata()
        return inst

    def _lifecycle(self, cycle, total):
        """Rare metadata changes: one resize, one instance shut off."""
        if len(self.instances) > 1 and cycle == max(total * 2 // 3, 1):
            inst = self.instances[1]
            inst.flavor = FLAVORS[min(FLAVORS.index(inst.flavor) + 1, 4)]
            inst.refresh_metadata()
        if len(self.instances) > 2 and cycle == max(total // 2, 1):
            self.instances[2].status = 'shutoff'
            self.instances[2].refresh_metadata()

    def cycle(self, timestamp, total_cycles=None, jitter=False, interval=600):
        """All samples of one polling cycle at ``timestamp``."""
        self._lifecycle(self.cycles_done, total_cycles or 0)
        self.cycles_done += 1
        emit = _Emitter(self, timestamp, jitter, interval)
        for inst in self.instances:
            self._instance_samples(emit, inst)
        if self._emit_images:
            for image in self.images:
                emit.sample('image.size', 'gauge', 'B', float(image.size),
                            None, image.project, image.id, image.metadata)
        for cont in self.containers:
            cont.objects = max(0, cont.objects + self._rng.randint(-20, 40))
            emit.sample('storage.objects', 'gauge', 'object',
                        float(cont.objects), None, cont.project, cont.id,
                        cont.metadata)
        return emit.samples

    def _instance_samples(self, emit, inst):
        rng = self._rng
        running = inst.status == 'active'
        util = (min(100.0, max(0.0, rng.gauss(inst.baseline, 8)))
                if running else 0.0)
        delta = util / 100.0 * inst.flavor[3] * emit.interval * 1e9
        inst.cpu_ns += delta
        inst.disk_bytes += rng.randint(0, 4 * 10 ** 6) if running else 0
        values = {'cpu_util': round(util, 3), 'cpu': inst.cpu_ns,
                  'cpu.delta': delta,
                  'memory.usage': float(int(inst.flavor[2] *
                                            rng.uniform(0.2, 0.9))),
                  'disk.read.bytes': inst.disk_bytes, 'instance': 1.0}
        for name, kind, unit in INSTANCE_METERS:
            emit.sample(name, kind, unit, values[name], inst.user,
                        inst.project, inst.id, inst.metadata)
        for vnic in inst.vnics:
            vnic.rx_bytes += rng.randint(0, 10 ** 6) if running else 0
            emit.sample('network.incoming.bytes', 'cumulative', 'B',
                        vnic.rx_bytes, inst.user, inst.project, vnic.id,
                        vnic.metadata)


class _Emitter(object):
    """Collects one cycle's samples, sharing timestamp objects."""

    def __init__(self, model, timestamp, jitter, interval):
        self.model = model
        self.timestamp = timestamp
        self.jitter = jitter
        self.interval = interval
        self.samples = []
        self._recorded = {}

    def _times(self, name):
        rng = self.model._rng
        if self.jitter:
            ts = self.timestamp + datetime.timedelta(
                seconds=len(self.samples), microseconds=rng.randint(0, 999999))
            return ts, ts + datetime.timedelta(seconds=rng.uniform(0.5, 5))
        recorded = self._recorded.get(name)
        if recorded is None:
            recorded = self._recorded[name] = self.timestamp + \
                datetime.timedelta(seconds=rng.uniform(0.5, 5))
        return self.timestamp, recorded

    def sample(self, name, kind, unit, volume, user, project, resource,
               metadata):
        if name not in self.model.meters:
            return
        timestamp, recorded = self._times(name)
        self.samples.append({
            'message_id': self.model._ids.uuid1(recorded),
            'counter_name': name, 'counter_type': kind, 'counter_unit': unit,
            'counter_volume': volume, 'user_id': user, 'project_id': project,
            'resource_id': resource, 'source': 'openstack',
            'timestamp': timestamp, 'recorded_at': recorded,
            'resource_metadata': metadata})


def generate_samples(seed=0, start=datetime.datetime(2024, 1, 1), cycles=24,
                     interval=600, projects=3, instances=8, images=2,
                     containers=2, meters=None, jitter=False):
    """Raw samples (add_samples format) of ``cycles`` polling cycles."""
    model = CloudModel(seed=seed, projects=projects, instances=instances,
                       images=images, containers=containers, meters=meters)
    return run_cycles(model, start, cycles, interval, jitter)


def run_cycles(model, start, cycles, interval=600, jitter=False):
    """Raw samples of ``cycles`` more polling cycles of ``model``."""
    samples = []
    step = datetime.timedelta(seconds=interval)
    for index in range(cycles):
        samples.extend(model.cycle(start + step * index, cycles, jitter,
                                   interval))
    return samples

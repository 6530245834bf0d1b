"""Sharing mappings between several workers (tooz partitioning).

Each worker joins one partitioned group and, before every pass, exports
only the mappings the hash ring gives it. Ownership can overlap for a
moment while members join or leave; that is harmless, because upserts are
idempotent and checkpoints only move forward.
"""

import os
import socket
import uuid

from oslo_log import log
from tooz import coordination as tooz_coordination

from ceilometer_export import errors

LOG = log.getLogger(__name__)
GROUP = b'ceilometer-export'


class Everything(object):
    """No coordination: this worker owns every mapping."""

    def owned(self, mappings):
        return list(mappings)

    def stop(self):
        pass


class Partition(object):
    """Membership of the group and the mappings this member owns."""

    def __init__(self, backend_url):
        member = '%s-%d-%s' % (socket.gethostname(), os.getpid(),
                               uuid.uuid4().hex[:8])
        self.member_id = member.encode()
        self._last_owned = None
        try:
            self._coordinator = tooz_coordination.get_coordinator(
                backend_url, self.member_id)
        except RuntimeError:
            # stevedore's NoMatches: no tooz driver for this scheme.
            raise errors.ConfigError(
                '[coordination] backend_url: no tooz driver for this URL '
                'scheme (redis://, etcd3+http://, zookeeper://, ...)'
            ) from None
        try:
            self._coordinator.start(start_heart=True)
            self._partitioner = self._coordinator.join_partitioned_group(
                GROUP)
        except tooz_coordination.ToozError as exc:
            raise errors.CoordinationError(
                '[coordination] backend_url: cannot join the group: %s'
                % exc) from None
        LOG.info('joined coordination group %s as %s', GROUP.decode(),
                 member)

    def owned(self, mappings):
        try:
            self._coordinator.run_watchers()
        except tooz_coordination.ToozError as exc:
            # Keep the last known ring: overlapping work is safe, stopping
            # every export because the backend hiccups is not.
            LOG.warning('coordination backend unreachable (%s); using the '
                        'last known group membership', exc)
        mine = [m for m in mappings
                if self._partitioner.belongs_to_self(m.name)]
        names = [m.name for m in mine]
        if names != self._last_owned:
            LOG.info('this worker now exports mappings: %s',
                     ', '.join(names) or '(none)')
            self._last_owned = names
        return mine

    def stop(self):
        try:
            self._coordinator.leave_partitioned_group(self._partitioner)
            self._coordinator.stop()
        except tooz_coordination.ToozError as exc:
            LOG.warning('leaving the coordination group failed: %s', exc)


def for_url(backend_url):
    return Partition(backend_url) if backend_url else Everything()

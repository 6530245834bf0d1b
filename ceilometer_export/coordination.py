"""Sharing mappings between several workers (tooz group membership).

Each worker joins one tooz group (``[coordination] group``) and exports
only the mappings that a consistent hash ring over the group's LIVE
members gives it. The ring is rebuilt from the backend's member list on
every refresh -- before each pass, and at most every REFRESH seconds
between pages -- instead of being kept up to date by join/leave events:
tooz's Partitioner builds its ring from one member listing and its event
cache from another, so a member that joins between the two is never
added, and that worker keeps claiming its share for ever. Workers that
read the same member list compute the same ring, so the shares are
disjoint and cover every mapping as soon as all have refreshed.

A member that dies without leaving disappears from the list when its
heartbeat key expires (tooz's membership timeout: 30 s by default for
Redis). A worker that finds itself dropped from the group (its heartbeat
lapsed) joins again. While membership changes, two workers may export the
same mapping for a moment: harmless, upserts are idempotent and
checkpoints only move forward.
"""

import os
import socket
import time
import uuid

from oslo_log import log
from tooz import coordination as tooz_coordination
from tooz import hashring

from ceilometer_export import errors

LOG = log.getLogger(__name__)
# Seconds between two membership reads while a pass runs.
REFRESH = 1.0


class Everything(object):
    """No coordination: this worker owns every mapping."""

    def owned(self, mappings):
        return list(mappings)

    def keeps(self, name):
        return True

    def stop(self):
        pass


class Partition(object):
    """Membership of the group and the mappings this member owns."""

    def __init__(self, backend_url, group='ceilometer-export',
                 clock=time.monotonic):
        member = '%s-%d-%s' % (socket.gethostname(), os.getpid(),
                               uuid.uuid4().hex[:8])
        self.member_id = member.encode()
        self.group = group.encode()
        self._clock = clock
        self._members = frozenset([self.member_id])
        self._ring = hashring.HashRing(self._members)
        self._read_at = None
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
            self._coordinator.join_group_create(self.group)
        except tooz_coordination.ToozError as exc:
            raise errors.CoordinationError(
                '[coordination] backend_url: cannot join the group: %s'
                % exc) from exc
        LOG.info('joined coordination group %s as %s', group, member)

    def owned(self, mappings):
        """The mappings this worker exports now (membership read anew)."""
        self._refresh()
        mine = [m for m in mappings if self._mine(m.name)]
        names = [m.name for m in mine]
        if names != self._last_owned:
            LOG.info('this worker now exports mappings: %s (group of %d)',
                     ', '.join(names) or '(none)', len(self._members))
            self._last_owned = names
        return mine

    def keeps(self, name):
        """Whether ``name`` is still this worker's (between pages)."""
        if self._read_at is None or \
                self._clock() - self._read_at >= REFRESH:
            self._refresh()
        return self._mine(name)

    def _mine(self, name):
        return self.member_id in self._ring.get_nodes(name.encode())

    def _refresh(self):
        self._read_at = self._clock()
        try:
            self._rejoin_if_dropped()
            members = frozenset(
                self._coordinator.get_members(self.group).get())
        except tooz_coordination.ToozError as exc:
            # Keep the last known ring: overlapping work is safe, stopping
            # every export because the backend hiccups is not.
            LOG.warning('coordination backend unreachable (%s); using the '
                        'last known group membership', exc)
            return
        members |= {self.member_id}
        if members != self._members:
            self._members = members
            self._ring = hashring.HashRing(members)

    def _rejoin_if_dropped(self):
        try:
            self._coordinator.get_member_capabilities(
                self.group, self.member_id).get()
        except (tooz_coordination.MemberNotJoined,
                tooz_coordination.GroupNotCreated):
            LOG.warning('this worker was dropped from coordination group %s '
                        '(its heartbeat lapsed): joining again',
                        self.group.decode())
            self._coordinator.join_group_create(self.group)

    def stop(self):
        try:
            self._coordinator.leave_group(self.group).get()
        except tooz_coordination.ToozError as exc:
            LOG.warning('leaving the coordination group failed: %s', exc)
        try:
            self._coordinator.stop()
        except tooz_coordination.ToozError as exc:
            LOG.warning('stopping the coordination client failed: %s', exc)


def for_url(backend_url, group='ceilometer-export'):
    return Partition(backend_url, group) if backend_url else Everything()

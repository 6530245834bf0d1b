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


class Exclusive(object):
    """No coordination: every mapping, but only while this process holds
    the database's worker lock (``store.worker_lock``). Without it, a
    pass owns nothing and the lock is tried again at the next one; a lock
    lost (its connection died with the database) is noticed between
    pages, at most REFRESH seconds late, and taken again at once if it is
    free; else nothing more is written until it is. The page being
    written while the server restarted is committed by the store's own
    retries before that check: harmless even if another worker took the
    lock meanwhile (idempotent upserts, checkpoints only move forward)."""

    def __init__(self, lock, clock=time.monotonic, observer=None):
        self._lock = lock
        self._clock = clock
        # Told of standby and take-over (systemd STATUS=).
        self._observer = observer
        self._checked_at = None
        self._holding = False
        self._waiting = False

    def take(self) -> bool:
        """Try to hold the lock now; logs a change of state once."""
        if self._still_held():
            return True
        try:
            self._holding = self._lock.take()
        except errors.StoreError as exc:
            LOG.warning('%s: exporting nothing until it can be taken', exc)
            return False
        holder = None if self._holding else self.holder()
        if holder is None:
            LOG.info('holding the worker lock of database %s%s',
                     self._lock.where, ' (the other worker is gone)'
                     if self._waiting else '')
        elif not self._waiting:
            LOG.warning('another worker exports into database %s (%s): '
                        'waiting, trying again every pass (several '
                        'workers need [coordination] backend_url)',
                        self._lock.where, holder)
        else:
            LOG.debug('worker lock of database %s still held by %s',
                      self._lock.where, holder)
        self._waiting = holder is not None
        if self._observer is not None:
            self._observer.standby(holder)
        return self._holding

    def holder(self) -> str:
        return self._lock.holder() or 'holder unknown'

    def owned(self, mappings):
        return list(mappings) if self.take() else []

    def keeps(self, name):
        if self._clock() - self._checked_at >= REFRESH \
                and not self._still_held():
            # At once: the database is back, and maybe nobody else
            # took the lock meanwhile; then the pass goes on.
            self.take()
        return self._holding

    def _still_held(self):
        self._checked_at = self._clock()
        if self._holding and not self._lock.held():
            LOG.error('lost the worker lock of database %s (its connection '
                      'died): writing nothing until it is taken again',
                      self._lock.where)
            self._holding = False
        return self._holding

    def stop(self):
        self._lock.release()


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


def for_url(backend_url, group='ceilometer-export', lock=None):
    """tooz partitioning with a backend URL; else one worker, through
    ``lock`` (the database's worker lock) when given."""
    if backend_url:
        return Partition(backend_url, group)
    return Exclusive(lock) if lock is not None else Everything()

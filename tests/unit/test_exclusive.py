"""coordination.Exclusive: the uncoordinated worker's share, decided by the
database's worker lock (here a stand-in with the same four methods; the
real locks run against real databases in test_worker_lock)."""

import logging

from ceilometer_export import coordination
from ceilometer_export import errors

MAPPINGS = [type('M', (), {'name': n})() for n in ('a', 'b')]


class Lock(object):
    where = 'db'

    def __init__(self):
        self.free = True
        self.mine = False
        self.down = False

    def take(self):
        if self.down:
            raise errors.DatabaseUnavailable('worker lock on db: gone')
        if self.mine or self.free:
            self.mine, self.free = True, False
        return self.mine

    def held(self):
        return self.mine

    def holder(self):
        return None if self.mine else 'host h pid 1'

    def release(self):
        self.mine = False


class Clock(object):
    now = 0.0

    def __call__(self):
        return self.now


def test_waits_logging_once_then_takes_over(caplog):
    lock = Lock()
    lock.free = False
    partition = coordination.Exclusive(lock, Clock())
    with caplog.at_level(logging.INFO):
        assert [partition.owned(MAPPINGS) for _ in range(3)] == [[]] * 3
        lock.free = True
        assert partition.owned(MAPPINGS) == MAPPINGS
    text = caplog.text
    assert text.count('waiting, trying again') == 1
    assert 'host h pid 1' in text
    assert '(the other worker is gone)' in text


def test_a_lost_lock_is_noticed_between_pages_and_taken_again():
    lock, clock = Lock(), Clock()
    partition = coordination.Exclusive(lock, clock)
    assert partition.owned(MAPPINGS) == MAPPINGS
    lock.mine, lock.free = False, True  # its connection died with it
    assert partition.keeps('a')         # not checked again yet
    clock.now += coordination.REFRESH
    assert partition.keeps('a')         # noticed, free: taken again
    assert lock.mine


def test_nothing_is_kept_while_another_worker_has_it():
    lock, clock = Lock(), Clock()
    partition = coordination.Exclusive(lock, clock)
    partition.owned(MAPPINGS)
    lock.mine = False                   # lost, and taken by another
    clock.now += coordination.REFRESH
    lock.down = True                    # the database still down
    assert not partition.keeps('a')
    lock.down = False                   # back, but someone else has it
    clock.now += coordination.REFRESH
    assert not partition.keeps('a')
    assert partition.owned(MAPPINGS) == []
    lock.free = True
    assert partition.owned(MAPPINGS) == MAPPINGS

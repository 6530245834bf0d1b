"""The loop's decisions, with in-memory stand-ins for source and store."""

import dataclasses
import datetime
import logging
import threading

from ceilometer_export import errors
from ceilometer_export.store import checkpoints
from ceilometer_export import worker as worker_mod

T = datetime.datetime(2024, 1, 1, 12, 0)


@dataclasses.dataclass(frozen=True)
class FakeQuery:
    text: str = ''

    def fingerprint(self):
        return 'fp-' + self.text


@dataclasses.dataclass(frozen=True)
class FakeMapping:
    name: str
    meters: tuple = ('cpu_util',)
    query: FakeQuery = FakeQuery()


class FakeSource(object):
    def __init__(self, fail=(), refuse=()):
        self.fail = set(fail)
        self.refuse = set(refuse)
        self.reads = []
        self.scope = 'scope-1'

    def meters(self, mapping):
        return list(mapping.meters)

    def start_pass(self):
        return self.scope

    def pages(self, mapping, meter, lower, end=None):
        self.reads.append((mapping.name, meter, lower, end))
        if mapping.name in self.refuse:
            raise errors.MappingRefused('HTTP 401: Not Authorized to access '
                                        'project other (fix: ...)')
        if mapping.name in self.fail or (mapping.name, meter) in self.fail:
            raise errors.SourceError('HTTP 503')
        return iter([[{'timestamp': T, 'message_id': 'm1'}]])


class FakeStore(object):
    def __init__(self, positions=None):
        self.positions = positions or {}
        self.results = {}
        self.runs = []
        self.scopes = []

    def record_worker(self, scope):
        self.scopes.append(scope)

    def start_pair(self, mapping, meter, fingerprint, reset=True):
        pos = self.positions.get((mapping, meter))
        cp = checkpoints.Checkpoint(mapping, meter, pos and pos[0],
                                    pos and pos[1], fingerprint, 0, None,
                                    None, None)
        return cp, 'kept'

    def prepare(self, rows):
        return list(rows)

    def write_page(self, mapping, meter, rows, advance=True,
                   fingerprint=None):
        return len(rows)

    def record_result(self, mapping, meter, error=None, fingerprint=None):
        self.results[(mapping, meter)] = error

    def start_run(self, kind, mapping):
        self.runs.append([kind, mapping, None, None])
        return len(self.runs) - 1

    def finish_run(self, run, outcome, samples=0, rejects=0, error=None):
        self.runs[run][2:] = [outcome, error]


def _worker(source, store, **kw):
    return worker_mod.Worker(source, store, threading.Event(), **kw)


def test_resume_reads_lookback_behind_checkpoint():
    source = FakeSource()
    store = FakeStore({('a', 'cpu_util'): (T, 'm0')})
    assert _worker(source, store, lookback=600).run_pass([FakeMapping('a')])
    assert source.reads == [('a', 'cpu_util',
                             T - datetime.timedelta(minutes=10), None)]


def test_new_pair_starts_at_start_time_or_since():
    start = datetime.datetime(2023, 1, 1)
    source = FakeSource()
    _worker(source, FakeStore(), start_time=start).run_pass(
        [FakeMapping('a')])
    since = datetime.datetime(2023, 6, 1)
    _worker(source, FakeStore(), start_time=start).run_pass(
        [FakeMapping('a')], worker_mod.Backfill(since=since))
    assert [r[2] for r in source.reads] == [start, since]


def test_since_never_skips_behind_checkpoint():
    source = FakeSource()
    store = FakeStore({('a', 'cpu_util'): (T, 'm0')})
    later = T + datetime.timedelta(days=3)
    _worker(source, store).run_pass([FakeMapping('a')],
                                    worker_mod.Backfill(since=later))
    assert source.reads[0][2] == T


def test_until_reads_only_the_range():
    source = FakeSource()
    store = FakeStore({('a', 'cpu_util'): (T, 'm0')})
    since, until = datetime.datetime(2023, 1, 1), datetime.datetime(2023, 2, 1)
    _worker(source, store, lookback=600).run_pass(
        [FakeMapping('a')], worker_mod.Backfill(since=since, until=until))
    assert source.reads == [('a', 'cpu_util', since, until)]


def test_failing_mapping_does_not_stop_the_others():
    source = FakeSource(fail={'bad'})
    store = FakeStore()
    ok = _worker(source, store).run_pass(
        [FakeMapping('bad'), FakeMapping('good')])
    assert ok is False
    assert store.results == {('bad', 'cpu_util'): 'meter cpu_util: HTTP 503',
                             ('good', 'cpu_util'): None}
    assert store.runs == [['export', 'bad', 'failed',
                           'meter cpu_util: HTTP 503'],
                          ['export', 'good', 'ok', None]]


def test_runs_are_recorded_with_kind_and_interruption():
    store = FakeStore()
    worker = _worker(FakeSource(), store)
    mappings = [FakeMapping('a', meters=('m1', 'm2'))]
    worker.run_pass(mappings, worker_mod.Backfill(since=T))
    worker.stop.set()
    worker._run_mapping(mappings[0], worker_mod.Backfill())
    assert store.runs == [['backfill', 'a', 'ok', None],
                          ['export', 'a', 'interrupted', None]]


def test_failing_meter_does_not_stop_the_mappings_other_meters():
    source = FakeSource(fail={('all', 'disk.read.bytes')})
    store = FakeStore()
    ok = _worker(source, store).run_pass([FakeMapping(
        'all', meters=('cpu_util', 'disk.read.bytes', 'memory'))])
    assert ok is False
    assert store.results == {
        ('all', 'cpu_util'): None,
        ('all', 'disk.read.bytes'): 'meter disk.read.bytes: HTTP 503',
        ('all', 'memory'): None}


def test_an_error_the_database_was_down_for_is_recorded_when_it_is_back():
    class FlakyStore(FakeStore):
        down = True

        def write_page(self, *args, **kwargs):
            if self.down:
                raise errors.DatabaseUnavailable('database down')
            return super(FlakyStore, self).write_page(*args, **kwargs)
    store = FlakyStore()
    worker = _worker(FakeSource(), store)
    assert worker.run_pass([FakeMapping('a')]) is False
    assert store.results == {}
    store.down = False
    recorded = []
    store.record_result = lambda *a, **kw: recorded.append((a, kw))
    assert worker.run_pass([FakeMapping('a')]) is True
    assert recorded[0][1]['error'] == 'meter cpu_util: database down'
    assert recorded[1][1]['error'] is None


def test_unreachable_database_ends_the_pass():
    class DownStore(FakeStore):
        def start_pair(self, mapping, meter, fingerprint, reset=True):
            raise errors.DatabaseUnavailable('database down')
    source = FakeSource()
    ok = _worker(source, DownStore()).run_pass(
        [FakeMapping('a'), FakeMapping('b')])
    assert ok is False and source.reads == []


def test_passes_start_on_a_fixed_schedule(monkeypatch):
    clock = [100.0]
    waits = []
    worker = _worker(FakeSource(), FakeStore())

    def slow_pass(mappings, backfill):
        clock[0] += 7.0     # each pass takes 7 s
        return True

    def wait(seconds):
        waits.append(seconds)
        clock[0] += seconds
        if len(waits) == 3:
            worker.stop.set()
    monkeypatch.setattr(worker_mod.time, 'monotonic', lambda: clock[0])
    monkeypatch.setattr(worker, 'run_pass', slow_pass)
    monkeypatch.setattr(worker._wake, 'wait', wait)
    worker.run_forever([FakeMapping('a')], interval=60)
    assert waits == [53.0, 53.0, 53.0]


def test_a_refused_mapping_fails_whole_and_is_logged_once(caplog):
    caplog.set_level(logging.INFO)
    source = FakeSource(refuse={'other'})
    store = FakeStore()
    worker = _worker(source, store)
    mappings = [FakeMapping('other', meters=('m1', 'm2', 'm3')),
                FakeMapping('own')]
    for _ in range(3):
        assert not worker.run_pass(mappings)
    # The first meter's refusal stands for the mapping: m2, m3 not asked.
    assert [r[:2] for r in source.reads if r[0] == 'other'] == \
        [('other', 'm1')] * 3
    refusal = 'HTTP 401: Not Authorized to access project other (fix: ...)'
    assert [r[1:] for r in store.runs] == [
        ['other', 'failed', refusal], ['own', 'ok', None]] * 3
    assert store.results[('other', 'm1')] == 'meter m1: ' + refusal
    errors_logged = [r.getMessage() for r in caplog.records
                     if r.levelname == 'ERROR']
    assert errors_logged == ['mapping other failed this pass: ' + refusal]
    assert sum('as logged before' in r.getMessage()
               for r in caplog.records) == 2


def test_every_pass_records_the_scope_of_the_token():
    source, store = FakeSource(), FakeStore()
    worker = _worker(source, store)
    worker.run_pass([FakeMapping('a')])
    source.scope = 'scope-2'
    worker.run_pass([FakeMapping('a')])
    assert store.scopes == ['scope-1', 'scope-2']

"""One verify (and repair) run, as the console script and the daemon do
it, recorded in ``export_runs``; and the daemon's schedule for it."""

import dataclasses
import datetime
import time

from oslo_log import log

from ceilometer_export import errors
from ceilometer_export.store import runs
from ceilometer_export import timeutil
from ceilometer_export import verify

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class Report:
    first: verify.Outcome                 # the verify run
    skipped: list                         # pairs without API samples
    repaired: list = dataclasses.field(default_factory=list)   # Hours
    after: verify.Outcome = None          # the repaired hours, again

    @property
    def differing(self):
        """The hours that still differ at the end of the run."""
        return (self.after or self.first).differing

    @property
    def failed(self):
        return self.first.failed + (self.after.failed if self.after else [])

    @property
    def ok(self):
        return not self.differing and not self.failed


def run(verifier, mappings, since=None, until=None, worker=None):
    """Verify ``mappings``; with a ``worker``, repair what differs and
    verify those hours again."""
    started = timeutil.utcnow()
    pairs, skipped = verifier.pairs(mappings, since, until)
    first = verifier.verify(pairs)
    _record(verifier, runs.VERIFY, started, first.compared, first)
    report = Report(first, skipped)
    if worker is None or not first.differing:
        return report
    started = timeutil.utcnow()
    report.repaired = list(first.differing)
    repair_failed = []
    read = verifier.repair(worker, pairs, first.differing, repair_failed)
    report.after = verifier.verify(verifier.narrowed(pairs, first.differing))
    report.after.failed[:0] = repair_failed
    names = {h.mapping for h in report.repaired}
    _record(verifier, runs.REPAIR, started,
            {name: read.get(name, 0) for name in names}, report.after)
    return report


def _record(verifier, kind, started, samples, outcome):
    for name, count in samples.items():
        problems = ['%s %s: api %d, db %d' % (
            h.meter, h.hour.isoformat(), h.api_count, h.db_count)
            for h in outcome.differing if h.mapping == name]
        problems += [message for mapping, message in outcome.failed
                     if mapping == name]
        try:
            verifier.record(kind, name, started, count, problems)
        except errors.StoreError as exc:
            LOG.warning('%s run of mapping %s not recorded in export_runs: '
                        '%s', kind, name, exc)


def attach(worker, conf, start_time):
    """Give the daemon's ``worker`` its own verify+repair runs when
    ``[export] verify_interval`` is set."""
    interval = conf.export.verify_interval
    if not interval:
        return None
    verifier = verify.Verifier(worker.source.counts(), worker.store,
                               start_time, worker.observer, worker.step)
    worker.after_pass = Periodic(verifier, worker, interval,
                                 conf.export.verify_window)
    LOG.info('verify and repair of the last %d s every %d s',
             conf.export.verify_window, interval)
    return worker.after_pass


class Periodic(object):
    """The daemon's own verify+repair of the last ``window`` seconds,
    every ``interval`` seconds, between export passes."""

    def __init__(self, verifier, worker, interval, window,
                 clock=time.monotonic):
        self.verifier = verifier
        self.worker = worker
        self.interval = interval
        self.window = datetime.timedelta(seconds=window)
        self.clock = clock
        self.next_at = clock() + interval

    def __call__(self, mappings):
        """Called after every pass: runs when due."""
        if self.clock() < self.next_at:
            return None
        self.next_at = self.clock() + self.interval
        mine = self.worker.partition.owned(mappings)
        since = timeutil.utcnow() - self.window
        try:
            report = run(self.verifier, mine, since, None, self.worker)
        except errors.ExportError as exc:
            LOG.error('verify run failed: %s', exc)
            return None
        _log(report, since)
        return report


def _log(report, since):
    for hour in report.repaired:
        LOG.warning('verify: mapping %s meter %s hour %s differed (api %d, '
                    'db %d): repaired', hour.mapping, hour.meter,
                    hour.hour.isoformat(), hour.api_count, hour.db_count)
    for hour in report.differing:
        LOG.error('verify: mapping %s meter %s hour %s still differs after '
                  'repair (api %d, db %d)', hour.mapping, hour.meter,
                  hour.hour.isoformat(), hour.api_count, hour.db_count)
    for mapping, message in report.failed:
        LOG.error('verify: mapping %s: %s', mapping, message)
    LOG.info('verify since %s: %d samples compared, %d hours repaired, %d '
             'still differ, %d explained', since.isoformat(),
             sum(report.first.compared.values()), len(report.repaired),
             len(report.differing), len(report.first.explained))

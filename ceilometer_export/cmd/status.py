"""ceilometer-export-status: where each (mapping, meter) stands.

Per pair: the checkpoint (the position of the newest sample the pair
exported), ``lag_seconds`` (how old that sample is: large for a meter
that simply has no new samples), ``freshness_seconds`` (since the last
pass that read the pair to the end: what --max-lag watches), rows,
rejects, the last error and the worker of the last pass that exported it.
One row per mapping (meter ``*``) shows its last pass: a failure before
any meter was known (discovery, capabilities, authentication) is there.
Samples pushed to the receiver follow, with ``mapping`` NULL (see
``receiver/status.py``); ``--max-lag`` does not watch them.
Each row's ``scope`` is what the API showed that worker's token: every
project (admin), one project only (no admin role), or unknown.
"""

import json
import sys

from oslo_config import cfg

from ceilometer_export import cmd
from ceilometer_export.receiver import status as received
from ceilometer_export import service
from ceilometer_export.source import scope as scope_mod
from ceilometer_export import store as store_mod
from ceilometer_export import timeutil

PROG = 'ceilometer-export-status'
CLI_OPTS = [
    cfg.StrOpt('format', default='table', choices=('table', 'json'),
               help='table for people, json for scripts.'),
    cfg.IntOpt('max-lag', min=0,
               help='Exit 1 when a pair was last read to the end more than '
                    'this many seconds ago, or never (for Nagios/cron).'),
]
MAPPING_ROW = '*'
WORKER_COLUMNS = ('worker', 'last_seen_at', 'scope')
COLUMNS = ('mapping', 'meter', 'state', 'checkpoint', 'lag_seconds',
           'freshness_seconds', 'samples_exported', 'rejects',
           'last_error', 'worker')


def _seconds(now, then):
    return None if then is None else max(0, round((now - then)
                                                  .total_seconds()))


def _run_worker(runs, at):
    """Worker of the newest of ``runs`` that started by ``at``."""
    best = [r for r in runs if r is not None and at is not None
            and r.started_at <= at]
    return max(best, key=lambda r: r.id).worker if best else None


def _mapping_row(name, last, last_ok, now):
    """The mapping's last pass; 'never run' before the first."""
    state = 'never run' if last is None else (last.outcome or 'running')
    return {'mapping': name, 'meter': MAPPING_ROW, 'state': state,
            'checkpoint': None, 'lag_seconds': None,
            'freshness_seconds': _seconds(now, last_ok and
                                          last_ok.finished_at),
            'samples_exported': None, 'rejects': None,
            'last_error': last and last.error,
            'last_run_started_at': timeutil.format_utc(
                last and last.started_at),
            'worker': last and last.worker}


def _pair_state(cp, last):
    if cp.last_error:
        return 'error'
    if last is not None and last.outcome in ('failed', 'interrupted') \
            and (cp.updated_at is None or cp.updated_at < last.started_at):
        # The mapping's last pass ended before it reached this meter.
        return 'not reached'
    return 'ok' if cp.last_success_at else 'never finished'


def _pair_row(cp, runs, rejects, now):
    last, last_ok = runs.get(cp.mapping, (None, None))
    return {'mapping': cp.mapping, 'meter': cp.meter,
            'state': _pair_state(cp, last),
            'checkpoint': timeutil.format_utc(cp.last_timestamp),
            'checkpoint_message_id': cp.last_message_id,
            'lag_seconds': _seconds(now, cp.last_timestamp),
            'freshness_seconds': _seconds(now, cp.last_success_at),
            'samples_exported': cp.samples_exported,
            'rejects': sum(rejects.get((cp.mapping, cp.meter), {}).values()),
            'last_success_at': timeutil.format_utc(cp.last_success_at),
            'last_error': cp.last_error,
            'worker': _run_worker((last, last_ok), cp.updated_at)}


def _unexported_row(mapping, meter, last_ok, now):
    """A configured meter without a checkpoint row: nothing selected yet
    (the pass read it and found no sample) or never run."""
    return dict.fromkeys(COLUMNS) | {
        'mapping': mapping.name, 'meter': meter,
        'state': 'no samples' if last_ok else 'never exported',
        'freshness_seconds': _seconds(now, last_ok and last_ok.finished_at),
        'samples_exported': 0, 'rejects': 0,
        'last_error': None if last_ok else 'never exported'}


def rows(checkpoints, mappings, now, runs=None, rejects=None):
    """One dict per mapping and per pair: stored checkpoints, plus
    configured pairs without one (so a silent mapping shows up)."""
    runs, rejects = runs or {}, rejects or {}
    found = []
    names = [m.name for m in mappings]
    names += sorted({cp.mapping for cp in checkpoints} - set(names))
    by_mapping = {}
    for cp in checkpoints:
        by_mapping.setdefault(cp.mapping, []).append(cp)
    configured = {m.name: m for m in mappings}
    for name in names:
        last, last_ok = runs.get(name, (None, None))
        found.append(_mapping_row(name, last, last_ok, now))
        stored = by_mapping.get(name, [])
        found.extend(_pair_row(cp, runs, rejects, now) for cp in stored)
        seen = {cp.meter for cp in stored}
        mapping = configured.get(name)
        for meter in (mapping.meters if mapping else ()):
            if meter not in seen:
                found.append(_unexported_row(mapping, meter, last_ok, now))
    return found


def with_scopes(found, workers):
    """Each row gets its worker's ``scope`` (text) and ``scope_kind``;
    returns those workers as rows (worker, last_seen_at, scope)."""
    shown = {}
    for row in found:
        name, seen = row['worker'], workers.get(row['worker'])
        row['scope_kind'] = seen.scope if seen else None
        row['scope'] = _describe(seen) if name else None
        if name:
            shown[name] = {'worker': name, 'scope': row['scope'],
                           'last_seen_at': timeutil.format_utc(
                               seen and seen.last_seen_at)}
    return [shown[name] for name in sorted(shown)]


def _describe(seen):
    if seen is None:
        # A run from before this worker's scope was recorded.
        return scope_mod.describe(scope_mod.UNKNOWN, note='not recorded')
    return scope_mod.describe(seen.scope, seen.project_id,
                              seen.project_name, seen.scope_note)


def too_old(found, max_lag):
    """Rows past ``max_lag`` seconds of freshness, or never fresh."""
    return [r for r in found if r['freshness_seconds'] is None
            or r['freshness_seconds'] > max_lag]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return cmd.guarded(PROG, lambda: _run(argv))


def _run(argv):
    conf = service.prepare_service(argv, CLI_OPTS, description=__doc__)
    settings = service.load_settings(conf)
    store = store_mod.Store.from_conf(conf)
    store.check_schema()
    checkpoints, rejects = store.checkpoints(), store.reject_counts()
    now = timeutil.utcnow()
    found = rows(checkpoints, settings.mappings, now, store.latest_runs(),
                 rejects)
    pushed = store.query(received.rows, {cp.meter for cp in checkpoints},
                         rejects, now)
    workers = with_scopes(found, store.workers())
    if conf.format == 'json':
        print(json.dumps(found + pushed, indent=2))
    else:
        print(cmd.table(COLUMNS, found, max_width=60))
        if workers:
            print('\nwhat the API shows each worker (its token\'s scope):')
            print(cmd.table(WORKER_COLUMNS, workers))
        if pushed:
            print('\npushed to ceilometer-export-receiver (no checkpoint; '
                  'rows from the hourly rollup):')
            print(cmd.table(received.COLUMNS, pushed, max_width=60))
    if conf.max_lag is not None:
        stale = too_old(found, conf.max_lag)
        for row in stale:
            print('%s: mapping %s meter %s: %s' % (
                PROG, row['mapping'], row['meter'],
                'never read to the end' if row['freshness_seconds'] is None
                else 'last read to the end %d s ago (--max-lag %d)'
                % (row['freshness_seconds'], conf.max_lag)),
                file=sys.stderr)
        if stale:
            return cmd.EXIT_FAILED
    return cmd.EXIT_OK

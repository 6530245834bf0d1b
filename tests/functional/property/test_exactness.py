"""End-to-end exactness on random clouds and mappings (hypothesis).

The invariant, after a scenario of passes, appends and crashes that ends
with one complete pass:

* every stored row is a sample some mapping selects, equal field by field
  to one of the API's copies of its message_id;
* every sample some mapping selects is stored, unless it was appended
  while that (mapping, meter) had a committed checkpoint more than
  ``lookback`` seconds after the sample's timestamp (late beyond the
  lookback: by design not re-read; ``verify`` heals those);
* checkpoints never move backwards, and a pair keeps its row;
* a pair's ``samples_exported`` never exceeds the stored rows its query
  selects.

"Selects" is the simulator's own evaluation of the mapping's query (its
simple-query matcher for the CLI grammar, its complex evaluator for JSON),
which the upstream differential suite checks against the real API.
"""

import contextlib
import datetime
import pathlib
import tempfile

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from ceilometer_export.cmd import export
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import checkpoints as checkpoints_mod
from ceilometer_export.store import Store
from tests.functional import harness
from tests.functional.property import cloud

MODES = st.sampled_from(['complex', 'simple'])
# A console script costs ~1.5 s per pass: a quarter of the profile's
# examples (ci: 3).
SCRIPT_EXAMPLES = max(3, settings.default.max_examples // 4)


@st.composite
def scenarios(draw):
    mode = draw(MODES)
    return {'mode': mode,
            'page_size': draw(st.integers(1, 6)),
            'lookback': draw(st.sampled_from([0, 600, 1800])),
            'cycles': draw(cloud.CYCLES),
            'mappings': draw(cloud.mappings(mode)),
            'steps': draw(cloud.STEPS)}


class Run(object):
    """One scenario against one simulator and one database."""

    def __init__(self, scenario, sim, db_url, conf_path, run_pass):
        self.s = scenario
        self.sim = sim
        self.db_url = db_url
        self.conf = harness.write_config(
            conf_path, sim, db_url, scenario['mappings'],
            ceilometer={'page_size': str(scenario['page_size']),
                        'query_mode': scenario['mode']},
            export={'lookback': str(scenario['lookback'])})
        Store(db_url).upgrade()
        self.run_pass = run_pass
        self.counter = [0]
        self.earlier = []
        self.exempt = set()        # (mapping, record seq) late beyond lookback
        self.positions = {}
        self.append(cloud.raw_samples(scenario['cycles'], cloud.T0,
                                      self.counter, self.earlier))

    def append(self, raws):
        stored = harness.checkpoints(self.db_url)
        lookback = datetime.timedelta(seconds=self.s['lookback'])
        for rec in self.sim.store.add(raws):
            for name in self.s['mappings']:
                cp = stored.get((name, rec.meter.name))
                if cp is not None and cp.last_timestamp is not None and \
                        rec.timestamp < cp.last_timestamp - lookback:
                    self.exempt.add((name, rec.seq))

    def step(self, step):
        if step[0] == 'pass':
            self.run_pass(self.conf)
        elif step[0] == 'crash':
            with _crash_at(step[1]):
                try:
                    self.run_pass(self.conf)
                except RuntimeError as exc:
                    assert 'simulated crash' in str(exc)
        else:
            newest = max(r.timestamp for r in cloud.records(self.sim))
            start = cloud.late_start(step[1], newest, self.s['lookback'])
            self.append(cloud.raw_samples([step[2]], start, self.counter,
                                          self.earlier))
        self.check_checkpoints()

    def check_checkpoints(self):
        now = {key: (cp.last_timestamp, cp.last_message_id or '')
               for key, cp in harness.checkpoints(self.db_url).items()}
        for key, before in self.positions.items():
            assert key in now, 'checkpoint row of %s vanished' % (key,)
            if before[0] is not None:
                assert now[key][0] is not None and now[key] >= before, key
        self.positions = now

    def check_database(self):
        recs = cloud.records(self.sim)
        selects = {name: cloud.selector(*spec)
                   for name, spec in self.s['mappings'].items()}
        copies, required, chosen = {}, set(), {}
        for rec in recs:
            for name, test in selects.items():
                if test(rec):
                    copies.setdefault(rec.message_id, []).append(
                        cloud.render(rec))
                    chosen.setdefault(name, set()).add(
                        (rec.meter.name, rec.message_id))
                    if (name, rec.seq) not in self.exempt:
                        required.add(rec.message_id)
        got = harness.exported(self.db_url)
        assert set(got) <= set(copies), 'rows no mapping selects'
        assert required <= set(got), 'selected samples missing'
        for message_id, row in got.items():
            assert row in copies[message_id], message_id
        for (name, meter), cp in harness.checkpoints(self.db_url).items():
            stored = {mid for m, mid in chosen.get(name, ())
                      if m == meter and mid in got
                      and got[mid]['counter_name'] == meter}
            assert cp.samples_exported <= len(stored), (name, meter)


@contextlib.contextmanager
def _crash_at(call):
    """The k-th page transaction fails after its samples were upserted,
    before its commit (the crash injection of test_resilience)."""
    real = checkpoints_mod.advance
    calls = []

    def advance(*args, **kwargs):
        calls.append(args)
        if len(calls) == call:
            raise RuntimeError('simulated crash')
        return real(*args, **kwargs)
    checkpoints_mod.advance = advance
    try:
        yield
    finally:
        checkpoints_mod.advance = real


def _in_process(conf):
    assert export.main(['--config-file', conf, '--once']) in (0, 1)


def _console_script(conf):
    result = harness.run('ceilometer-export', '--config-file', conf,
                         '--once')
    assert result.returncode in (0, 1), result.stderr


def _play(scenario, db_url, tmp, run_pass):
    with Simulator(samples=[]) as sim:
        run = Run(scenario, sim, db_url, tmp / 'export.conf', run_pass)
        for step in scenario['steps'] + [('pass',)]:
            run.step(step)
        run.check_database()


@given(scenarios())
def test_database_holds_exactly_what_the_mappings_select(scenario):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp)
        _play(scenario, 'sqlite:///%s' % (path / 'db.sqlite'), path,
              _in_process)


@pytest.mark.parametrize('backend', ['postgresql'])
@settings(max_examples=SCRIPT_EXAMPLES)
@given(scenario=scenarios().map(
    # Crashes need the in-process injection; the script runs whole passes.
    lambda s: dict(s, steps=[x for x in s['steps'] if x[0] != 'crash'])))
def test_console_script_exports_exactly_on_postgresql(make_db_url, backend,
                                                      scenario):
    with tempfile.TemporaryDirectory() as tmp:
        _play(scenario, make_db_url(backend), pathlib.Path(tmp),
              _console_script)

"""Samples of one (mapping, meter) from the Ceilometer v2 API, page by page.

Picks the query mode, turns a mapping and a position into API requests and
API samples into checked rows. Knows HTTP and the API, nothing of SQL.
"""

import datetime

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import opts
from ceilometer_export import query
from ceilometer_export.source import client
from ceilometer_export.source import counts
from ceilometer_export.source import paging
from ceilometer_export.source import samples
from ceilometer_export.source import scope as scope_mod
from ceilometer_export import timeutil
from ceilometer_export import timings

LOG = log.getLogger(__name__)

COMPLEX = 'complex'
SIMPLE = 'simple'
_CAPABILITY = 'samples:query:complex'
# First window of a simple-mode pass; it adapts to the data's density.
_INITIAL_SPAN = datetime.timedelta(hours=1)
# /v2/meters?unique=True counts meter names; no cloud has this many.
_DISCOVERY_LIMIT = 100000


class Source(object):

    def __init__(self, conf, wait, session=None, observer=None):
        session = session or client.load_session(conf)
        self._api = client.ApiClient(conf, wait, session, observer)
        self._page_size = conf.ceilometer.page_size
        configured = conf.ceilometer.query_mode
        self._mode = None if configured == 'auto' else configured
        self._scope = scope_mod.Tracker(
            session, conf.ceilometer.admin_role,
            conf[opts.CREDENTIALS_GROUP].auth_type,
            warn=not conf.export.require_admin)
        self._require_admin = conf.export.require_admin
        # {mapping name: (token, fingerprint, message)} of the mappings
        # the API refused for that token: not asked again until the token
        # or the query changes (a retry could only be refused again).
        self._refused = {}

    def start_pass(self) -> scope_mod.Scope:
        """A new pass: the API gets a full retry ladder again, and the
        token's scope is checked; returns it."""
        self._api.breaker.start_pass()
        return self.check_scope()

    def check_scope(self) -> scope_mod.Scope:
        """The token's scope (a WARNING when it becomes non-admin); with
        [export] require_admin a non-admin token is a ConfigError."""
        try:
            found = self._scope.refresh()
        except ks_exc.ClientException as exc:
            # Keystone failing: the requests report it, retried as usual.
            LOG.debug('token scope not checked: %s: %s',
                      type(exc).__name__, exc)
            return self._scope.scope
        if found.kind == scope_mod.PROJECT and self._require_admin:
            raise errors.ConfigError(
                '[export] require_admin = true: %s. Fix: %s'
                % (self._scope.lacks(), self._scope.fix()))
        return found

    def mode(self):
        """complex or simple; 'auto' asks the API once per process."""
        if self._mode is None:
            caps = self._api.capabilities()
            complex_ok = bool(caps.get('api', {}).get(_CAPABILITY))
            self._mode = COMPLEX if complex_ok else SIMPLE
            LOG.info('query mode: %s (capabilities: %s=%s)', self._mode,
                     _CAPABILITY, complex_ok)
        return self._mode

    def counts(self):
        """Per-hour sample counts of the API, for verify."""
        return counts.ApiCounts(self._api, self._page_size, self.mode)

    def meters(self, mapping):
        """The mapping's meters; for ``*`` every meter of the cloud.

        Discovery is deliberately unfiltered: /v2/meters applies ``q`` to
        each meter's newest sample only, so a filtered listing drops every
        meter whose newest sample another project owns
        (ceilometer-v2-api.md 3.1). Each meter is then read with the
        mapping's filter; one without a matching sample costs one empty
        request.
        """
        self._check_refused(mapping)
        if not mapping.discover:
            return list(mapping.meters)
        names = sorted(set(self._api.meter_names(_DISCOVERY_LIMIT)))
        LOG.debug('mapping %s: discovered meters %s', mapping.name, names)
        return names

    def pages(self, mapping, meter, lower, end=None):
        """Pages of rows (ascending) with lower <= timestamp (< end)."""
        self._check_refused(mapping)
        try:
            if self.mode() == COMPLEX and not needs_simple(mapping.query):
                found = self._complex_pages(mapping, meter, lower, end)
            else:
                found = self._simple_pages(mapping, meter, lower, end)
        except errors.MappingRefused as exc:
            raise self._refuse(mapping, exc) from exc
        return self._refusals(mapping, found)

    def _refusals(self, mapping, pages):
        try:
            yield from pages
        except errors.MappingRefused as exc:
            raise self._refuse(mapping, exc) from exc

    def _refuse(self, mapping, exc):
        """The API's 401 for another project, with the fix, remembered
        for the token keystoneauth holds after re-authenticating on it."""
        try:
            self._scope.refresh()
        except ks_exc.ClientException:
            pass    # the scope as last known
        if self._scope.scope.kind == scope_mod.PROJECT:
            why = self._scope.lacks()
        else:
            why = ('the API does not take this token as admin (%s), so '
                   'it may read its own project only'
                   % self._scope.scope.describe())
        message = ('%s (%s. Fix: %s, or limit this mapping\'s query to the '
                   'token\'s project)' % (
                       exc, why, self._scope.fix()))
        self._refused[mapping.name] = (
            self._scope.access, mapping.query.fingerprint(), message)
        return errors.MappingRefused(message)

    def _check_refused(self, mapping):
        token, fingerprint, message = self._refused.get(
            mapping.name, (None, None, None))
        if message is not None and token is self._scope.access \
                and fingerprint == mapping.query.fingerprint():
            raise errors.MappingRefused(message)

    def _complex_pages(self, mapping, meter, lower, end):
        base = mapping.query.complex_filter()

        def fetch(lower, after, limit):
            expr = complex_filter(base, meter, lower, after, end)
            page, unchecked = self._api.query_samples(expr, limit)
            with timings.measure('transform'):
                return [samples.from_sample(s, meter, unchecked)
                        for s in page]
        return _checked(paging.keyset_pages(fetch, lower, self._page_size))

    def _simple_pages(self, mapping, meter, lower, end):
        try:
            base = mapping.query.simple_q()
        except query.MappingError as exc:
            raise errors.FatalSourceError(str(exc)) from None
        if lower is None:
            first = self._api.first_timestamp(meter, base)
            if first is None:
                return iter(())
            lower = timeutil.parse_api(first)

        def fetch(lo, hi, limit):
            q = base + _bounds(lo, hi)
            page = self._api.list_samples(meter, q, limit)
            with timings.measure('transform'):
                return [samples.from_old_sample(s, meter) for s in page]
        return paging.window_pages(fetch, lower, self._page_size,
                                   _INITIAL_SPAN, timeutil.utcnow(), end)


def needs_simple(filter_query) -> bool:
    """True for a CLI-grammar query that names ``source``.

    Ceilometer's SQL driver answers a complex filter (or order-by) on
    ``source`` with a 500 (its sample model calls the column
    ``source_id``), while ``q.field=source`` works in a simple query; such
    a mapping is therefore read in simple mode, which selects the same
    samples. A JSON filter has no simple form and is sent as written.
    """
    return (not filter_query.is_json
            and any(c.key == 'source' for c in filter_query.constraints))


def complex_filter(base, meter, lower, after, end):
    """The mapping filter ANDed with the meter and the keyset position."""
    parts = [{'=': {'counter_name': meter}}]
    if base:
        parts.append(base)
    if after is not None:
        ts, message_id = timeutil.format_api(after[0]), after[1]
        parts.append({'or': [
            {'>': {'timestamp': ts}},
            {'and': [{'=': {'timestamp': ts}},
                     {'>': {'message_id': message_id}}]}]})
    elif lower is not None:
        parts.append({'>=': {'timestamp': timeutil.format_api(lower)}})
    if end is not None:
        parts.append({'<': {'timestamp': timeutil.format_api(end)}})
    return parts[0] if len(parts) == 1 else {'and': parts}


def _bounds(lo, hi):
    q = [{'field': 'timestamp', 'op': 'ge', 'type': '',
          'value': timeutil.format_api(lo)}]
    if hi is not None:
        q.append({'field': 'timestamp', 'op': 'le', 'type': '',
                  'value': timeutil.format_api(hi)})
    return q


def _checked(pages):
    try:
        yield from pages
    except paging.OrderError as exc:
        raise errors.FatalSourceError(str(exc)) from None

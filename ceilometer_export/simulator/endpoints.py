"""The Ceilometer v2 controllers: arguments in, JSON-ready data out.

Each function follows its pike controller's order of checks (WSME argument
parsing, limit, query validation and scoping, storage) so that a request
with several problems gets the same error as from the real service.
"""
import base64

from oslo_utils import strutils
from oslo_utils import timeutils

from ceilometer_export.simulator import args
from ceilometer_export.simulator import complex_eval
from ceilometer_export.simulator import complex_query
from ceilometer_export.simulator import errors
from ceilometer_export.simulator import model
from ceilometer_export.simulator import simple_query
from ceilometer_export.simulator import statistics

SAMPLE_ARGS = (('q', 'q'), ('limit', 'int'))
METER_ARGS = (('q', 'q'), ('limit', 'int'), ('unique', 'str'))
RESOURCE_ARGS = (('q', 'q'), ('limit', 'int'), ('meter_links', 'int'))
STATISTICS_ARGS = (('q', 'q'), ('groupby', 'list'), ('period', 'int'),
                   ('aggregate', 'aggregate'))


class Context(object):
    """Per-request state: the store, the options and the caller's scope."""

    def __init__(self, store, options, token, application_url):
        self.store = store
        self.options = options
        self.token = token
        # None means admin: no project scoping (rbac.get_limited_to_project).
        self.auth_project = None if token.is_admin else token.project
        self.application_url = application_url


def version(ctx, req):
    base = ctx.application_url
    return 200, {'versions': {'values': [{
        'id': 'v2', 'status': 'stable', 'updated': '2013-02-13T00:00:00Z',
        'links': [{'href': base + '/v2', 'rel': 'self'},
                  {'href': 'http://docs.openstack.org/', 'rel': 'describedby',
                   'type': 'text/html'}],
        'media-types': [
            {'base': 'application/json',
             'type': 'application/vnd.openstack.telemetry-v2+json'},
            {'base': 'application/xml',
             'type': 'application/vnd.openstack.telemetry-v2+xml'}]}]}}


def capabilities(ctx, req):
    args.parse(req.params, ())
    api = {'meters:query:metadata': True, 'meters:query:simple': True,
           'resources:query:metadata': True, 'resources:query:simple': True,
           'samples:query:complex': bool(ctx.options.complex_query),
           'samples:query:metadata': True, 'samples:query:simple': True,
           'statistics:aggregation:standard': True,
           'statistics:groupby': True, 'statistics:query:metadata': True,
           'statistics:query:simple': True}
    for func in statistics.SELECTABLE:
        api['statistics:aggregation:selectable:%s' % func] = True
    return 200, {'api': dict(sorted(api.items())),
                 'storage': {'storage:production_ready': True}}


# -- samples ------------------------------------------------------------------

def newest(store, sfilter, limit=None):
    """Matching records, timestamp DESC with no tie-breaker, first N."""
    names = [sfilter.meter] if sfilter.meter else None
    lo, hi = sfilter.key_bounds()
    match = sfilter.matcher()
    found = []
    with store.lock:
        for rec in store.records(names, lo, hi, descending=True):
            if match(rec):
                found.append(rec)
                if limit and len(found) >= limit:
                    break
    return found


def _sample_filter(ctx, req):
    parsed = args.parse(req.params, SAMPLE_ARGS)
    limit = args.enforce_limit(parsed.limit, ctx.options.default_limit)
    sfilter = simple_query.to_filter(parsed.q, simple_query.SAMPLE_KEYS,
                                     auth_project=ctx.auth_project)
    return sfilter, limit


def meter_samples(ctx, req, name):
    sfilter, limit = _sample_filter(ctx, req)
    sfilter.meter = name
    return 200, model.render_old_samples(newest(ctx.store, sfilter, limit))


def samples(ctx, req):
    sfilter, limit = _sample_filter(ctx, req)
    return 200, model.render_samples(newest(ctx.store, sfilter, limit))


def sample_by_id(ctx, req, message_id):
    args.parse(req.params, ())
    with ctx.store.lock:
        found = ctx.store.by_id(message_id)
    if not found:
        raise errors.ClientError('Sample %s Not Found' % message_id, 404)
    return 200, model.new_sample(max(found, key=lambda r: r.key))


def query_samples(ctx, req):
    try:
        body = req.json()
    except ValueError:
        raise errors.ClientError('Request is not in valid JSON format')
    query = complex_query.parse(complex_query.check_body(body),
                                ctx.auth_project, ctx.options.default_limit)
    if not ctx.options.complex_query:
        raise errors.not_implemented(
            'Complex query for samples is not implemented.')
    return 200, model.render_samples(complex_eval.run(ctx.store, query))


# -- meters -------------------------------------------------------------------

def meters(ctx, req):
    parsed = args.parse(req.params, METER_ARGS)
    limit = args.enforce_limit(parsed.limit, ctx.options.default_limit)
    sfilter = simple_query.to_filter(parsed.q, simple_query.METER_KEYS,
                                     allow_timestamps=False,
                                     auth_project=ctx.auth_project)
    if 'unique' in sfilter.extra:
        raise errors.ServerError("get_meters() got multiple values for "
                                 "keyword argument 'unique'")
    unique = strutils.bool_from_string(parsed.unique)
    match = sfilter.matcher()
    with ctx.store.lock:
        recs = [r for r in meter_candidates(ctx.store, sfilter.resource,
                                            unique) if match(r)]
    return 200, [meter_entry(r, unique) for r in recs[:limit]]


def meter_candidates(store, resource, unique):
    """The latest inserted sample per (meter, resource), or per meter."""
    if unique and not resource:
        return store.latest_per_meter()
    pairs = store.latest_per_pair()
    if resource:
        pairs = [r for r in pairs if r.resource_id == resource]
    if not unique:
        return pairs
    latest = {}
    for rec in pairs:
        if rec.meter not in latest or rec.seq > latest[rec.meter].seq:
            latest[rec.meter] = rec
    return sorted(latest.values(), key=lambda r: r.meter.seq)


def meter_entry(rec, unique=False):
    meter = rec.meter
    resource = None if unique else rec.resource_id
    meter_id = base64.b64encode(('%s+%s' % (resource, meter.name)).encode())
    return {'name': meter.name, 'type': meter.type, 'unit': meter.unit,
            'resource_id': resource,
            'project_id': None if unique else rec.project_id,
            'user_id': None if unique else rec.user_id,
            'source': None if unique else rec.source,
            'meter_id': meter_id.decode()}


# -- resources ----------------------------------------------------------------

def resources(ctx, req):
    parsed = args.parse(req.params, RESOURCE_ARGS)
    meter_links = 1 if parsed.meter_links is None else parsed.meter_links
    limit = args.enforce_limit(parsed.limit, ctx.options.default_limit)
    sfilter = simple_query.to_filter(parsed.q, simple_query.RESOURCE_KEYS,
                                     auth_project=ctx.auth_project)
    with ctx.store.lock:
        rows = resource_rows(ctx.store, sfilter, limit)
        return 200, [resource_entry(ctx, row, meter_links) for row in rows]


def resource_one(ctx, req, resource_id):
    args.parse(req.params, ())
    sfilter = simple_query.SampleFilter()
    sfilter.resource = resource_id
    sfilter.project = ctx.auth_project
    with ctx.store.lock:
        rows = resource_rows(ctx.store, sfilter)
        if not rows:
            raise errors.ClientError('Resource %s Not Found' % resource_id,
                                     404)
        return 200, resource_entry(ctx, rows[0], 1)


def _only_resource(sfilter):
    return not (sfilter.user or sfilter.project or sfilter.source
                or sfilter.start or sfilter.end or sfilter.metaquery)


def resource_rows(store, sfilter, limit=None):
    """(resource_id, first, last, latest record) sorted by resource id."""
    summaries = store.resource_summaries()
    if _only_resource(sfilter):
        ids = sorted(summaries) if not sfilter.resource else (
            [sfilter.resource] if sfilter.resource in summaries else [])
        return [(rid, summaries[rid].first, summaries[rid].last,
                 summaries[rid].latest) for rid in ids[:limit]]
    lo, hi = sfilter.key_bounds()
    match = sfilter.matcher()
    spans = {}
    for rec in store.records(None, lo, hi, descending=False):
        if match(rec):
            span = spans.get(rec.resource_id)
            if span is None:
                spans[rec.resource_id] = [rec.timestamp, rec.timestamp]
            else:
                span[1] = rec.timestamp
    ids = sorted(spans)[:limit]
    return [(rid, spans[rid][0], spans[rid][1],
             store.latest_at(rid, spans[rid][1])) for rid in ids]


def resource_entry(ctx, row, meter_links):
    rid, first, last, latest = row
    base = ctx.application_url
    links = [{'href': '%s/v2/resources/%s' % (base, rid), 'rel': 'self'}]
    if meter_links:
        for rec in meter_candidates(ctx.store, rid, False):
            links.append({'href': '%s/v2/meters/%s?q.field=resource_id'
                                  '&q.value=%s' % (base, rec.meter.name, rid),
                          'rel': rec.meter.name})
    return {'resource_id': rid, 'project_id': latest.project_id,
            'user_id': latest.user_id,
            'first_sample_timestamp': model.isoformat(first),
            'last_sample_timestamp': model.isoformat(last),
            'metadata': latest.meta.flat, 'links': links,
            'source': latest.source}


# -- statistics ---------------------------------------------------------------

def meter_statistics(ctx, req, name):
    parsed = args.parse(req.params, STATISTICS_ARGS)
    aggregates = statistics.parse_aggregates(*parsed.aggregate)
    period = parsed.period
    if period and period < 0:
        raise errors.ClientError('Period must be positive.')
    sfilter = simple_query.to_filter(parsed.q, simple_query.SAMPLE_KEYS,
                                     auth_project=ctx.auth_project)
    sfilter.meter = name
    groupby = statistics.check_groupby(parsed.groupby)
    bounds = statistics.query_bounds(parsed.q)
    recs = newest(ctx.store, sfilter)
    return 200, statistics.compute(recs, sfilter, period, groupby, aggregates,
                                   bounds)


# -- POST /v2/meters/{name} ---------------------------------------------------

_POST_REQUIRED = ('counter_name', 'counter_type', 'counter_unit',
                  'counter_volume', 'resource_id')


def create_samples(ctx, req, name):
    """Samples are stored at once (as with ``direct=True``)."""
    args.parse(req.params, (('direct', 'str'),))
    try:
        posted = req.json()
    except ValueError:
        raise errors.ClientError('Request is not in valid JSON format')
    if not posted or not isinstance(posted, list):
        raise errors.ClientError('Samples should be included in request body')
    raws = [_posted_raw(ctx, item, name) for item in posted]
    recs = ctx.store.add(raws)
    result = []
    for rec in recs:
        entry = model.old_sample(rec)
        del entry['recorded_at']
        result.append(entry)
    return 201, result


def _posted_raw(ctx, item, name):
    if not isinstance(item, dict):
        raise errors.invalid_input('samples', item, 'Value should be an object')
    for field in _POST_REQUIRED:
        if item.get(field) is None:
            raise errors.invalid_input(field, None, 'Mandatory field missing.')
    if item['counter_name'] != name:
        raise errors.invalid_input('counter_name', item['counter_name'],
                                   'should be %s' % name)
    if item.get('message_id'):
        raise errors.invalid_input('message_id', item['message_id'],
                                   'The message_id must not be set')
    if item['counter_type'] not in model.SAMPLE_TYPES:
        raise errors.invalid_input('counter_type', item['counter_type'],
                                   'The counter type must be: ' +
                                   ', '.join(model.SAMPLE_TYPES))
    token = ctx.token
    project = item.get('project_id') or token.project
    if ctx.auth_project and ctx.auth_project != project:
        raise errors.invalid_input('project_id', project,
                                   'can not post samples to other projects')
    return {'counter_name': name, 'counter_type': item['counter_type'],
            'counter_unit': item['counter_unit'],
            'counter_volume': _volume(item['counter_volume']),
            'user_id': item.get('user_id') or token.user.id,
            'project_id': project, 'resource_id': item['resource_id'],
            'source': '%s:%s' % (project, item.get('source') or 'openstack'),
            'timestamp': _posted_time(item.get('timestamp')),
            'recorded_at': None,
            'resource_metadata': model.restore_nesting(
                item.get('resource_metadata') or {})}


def _volume(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise errors.invalid_input('counter_volume', value,
                                   'Value should be a number')


def _posted_time(value):
    if not value:
        return timeutils.utcnow()
    try:
        # Unlike query values, a posted offset is converted to UTC.
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except (TypeError, ValueError):
        raise errors.invalid_input('timestamp', value,
                                   'invalid timestamp format')

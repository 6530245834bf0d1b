"""Query-string arguments the way WSME (0.9) reads them.

Every declared argument is converted in order (an int that does not parse
is a 500 from ``int()``), then any parameter nobody consumed is a 400
``Unknown argument``. Repeated scalars: the last value wins (WebOb).
"""
from ceilometer_export.simulator import errors
from ceilometer_export.simulator import simple_query


class Args(object):
    pass


def _int(name, values):
    if not values:
        return None
    try:
        return int(values[-1])
    except ValueError as exc:
        raise errors.ServerError(str(exc))


def parse(params, spec):
    """spec: ordered (name, kind) pairs; kind in q/int/str/list/aggregate."""
    args = Args()
    used = set()
    for name, kind in spec:
        if kind == 'q':
            args.q = simple_query.parse_queries(params)
            used.update('q.' + k for k in ('field', 'op', 'value', 'type'))
        elif kind == 'aggregate':
            args.aggregate = (params.get('aggregate.func', []),
                              params.get('aggregate.param', []))
            used.update(('aggregate.func', 'aggregate.param'))
        else:
            values = params.get(name, [])
            used.add(name)
            if kind == 'int':
                setattr(args, name, _int(name, values))
            elif kind == 'list':
                setattr(args, name, list(values))
            else:
                setattr(args, name, values[-1] if values else None)
    for key in params:
        if key not in used:
            raise errors.unknown_argument(key)
    return args


def enforce_limit(limit, default_limit):
    if limit is None:
        limit = default_limit
    if not limit or limit <= 0:
        raise errors.ClientError('Limit must be positive')
    return limit

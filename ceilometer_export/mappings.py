"""Mapping sections (``[mapping:NAME]``).

A mapping selects samples with ``query`` and names the meters to export
with ``meters``.  The query is empty, python-ceilometerclient's CLI grammar
(``field<op>value;...``) or a JSON complex-query filter (both in
``ceilometer_export.query``).  Everything is validated when the
configuration is read, so a bad mapping is a clear configuration error
(exit code 2) instead of a 400 from the API at run time.
"""

import dataclasses
import difflib

from ceilometer_export.query import FilterQuery, MappingError, parse_filter

__all__ = ['DISCOVER', 'Mapping', 'MappingError', 'OPTIONS', 'parse_mapping']

OPTIONS = ('query', 'meters')
DISCOVER = '*'


@dataclasses.dataclass(frozen=True)
class Mapping:
    name: str               # NAME from [mapping:NAME]: the checkpoint identity
    query: FilterQuery
    meters: tuple           # meter names in given order, de-duplicated
    discover: bool          # True when meters = *


# Characters a meter name cannot hold: the client puts the name into the URL
# path without encoding, and '*' alone means discovery.
_BAD_METER_CHARS = set('/?#%*')


def _check_name(name):
    if not name or any(c.isspace() for c in name):
        raise MappingError('[mapping:%s] invalid section name: a mapping name '
                           'must be non-empty and have no whitespace' % name)


def _check_options(section, options):
    for option in options:
        if option in OPTIONS:
            continue
        hint = difflib.get_close_matches(option, OPTIONS, n=1)
        extra = "; did you mean '%s'?" % hint[0] if hint else ''
        raise MappingError('%s %s: unknown option (known: %s%s)'
                           % (section, option, ', '.join(sorted(OPTIONS)),
                              extra))


def _option_text(section, options, option):
    value = options.get(option)
    if value is None:
        return ''
    if not isinstance(value, str):
        raise MappingError('%s %s: expected a string, got %r'
                           % (section, option, value))
    return value.strip()


def _check_meter(where, meter):
    if not meter:
        raise MappingError('%s: empty meter name in the list' % where)
    if any(c.isspace() for c in meter):
        raise MappingError("%s: invalid meter name '%s': whitespace inside "
                           "(meter names are comma-separated)" % (where, meter))
    bad = sorted(set(meter) & _BAD_METER_CHARS)
    if bad:
        raise MappingError("%s: invalid meter name '%s': it contains '%s'"
                           % (where, meter, ''.join(bad)))


def _parse_meters(section, text):
    where = '%s meters' % section
    if not text:
        raise MappingError("%s: missing: list meter names (comma-separated) "
                           "or '*' to discover them" % where)
    if text == DISCOVER:
        return (), True
    items = [item.strip() for item in text.split(',')]
    if DISCOVER in items:
        raise MappingError("%s: '*' (discover all meters) cannot be mixed "
                           "with meter names" % where)
    for meter in items:
        _check_meter(where, meter)
    return tuple(dict.fromkeys(items)), False


def parse_mapping(name, options):
    """Build a Mapping from the raw options of section [mapping:NAME]."""
    _check_name(name)
    section = '[mapping:%s]' % name
    _check_options(section, options)
    meters, discover = _parse_meters(
        section, _option_text(section, options, 'meters'))
    query = parse_filter(_option_text(section, options, 'query'),
                         where='%s query' % section)
    return Mapping(name=name, query=query, meters=meters, discover=discover)

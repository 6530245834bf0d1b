"""What both query grammars share: the error and the refused fields."""

import re


class MappingError(ValueError):
    """A mapping section is invalid.

    The message names the section ('[mapping:NAME]'), the option and what is
    wrong; it is meant to be shown to the operator as is.
    """


METADATA_KEY_RE = re.compile(r'\S+')   # the server's '^metadata\.[\S]+$'

_CHECKPOINT_WHY = ("timestamps are driven by the exporter's checkpoint "
                   "(use [export] start_time or --since)")
_METER_WHY = "meters are selected by the 'meters' option"
# Fields the API knows but a mapping must not filter on, with the reason.
REFUSED_FIELDS = {
    'timestamp': _CHECKPOINT_WHY,
    'search_offset': _CHECKPOINT_WHY,
    'recorded_at': _CHECKPOINT_WHY,
    'meter': _METER_WHY,
    'counter_name': _METER_WHY,
    'message_id': 'message_id is used by the exporter itself for paging',
}


def fail(where, message):
    raise MappingError('%s: %s' % (where, message))

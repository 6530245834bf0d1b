"""Mapping filter queries: their two grammars and their meaning.

``cli`` is python-ceilometerclient's CLI grammar (``field<op>value;...``)
and its conversion to a complex filter with the server's typing rules;
``complex`` is the JSON complex-query filter grammar; ``filter`` holds
``FilterQuery``, what a parsed mapping query is to the rest of the
exporter.  Whoever needs to know what a mapping selects (the API request,
verify's SQL side, the receiver) asks this package.
"""

from ceilometer_export.query.base import MappingError
from ceilometer_export.query.filter import FilterQuery, parse_filter

__all__ = ['FilterQuery', 'MappingError', 'parse_filter']

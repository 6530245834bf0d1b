"""Dimensions: the first-level metadata key/value pairs of a sample.

A sample's dimensions are stored once per distinct set, keyed by a content
hash, because most samples of a resource carry the same metadata and one
row per key per sample is what makes naive exports slow.
"""

import dataclasses
import fnmatch
import hashlib
import json

from ceilometer_export.store import schema


@dataclasses.dataclass(frozen=True)
class DimensionFilter:
    include: tuple = ('*',)
    exclude: tuple = ()
    max_value_length: int = 255
    # Metadata keys repeat on every sample: each is matched once.
    _keys: dict = dataclasses.field(default_factory=dict, compare=False,
                                    repr=False)

    @classmethod
    def from_conf(cls, conf):
        return cls(include=tuple(conf.dimensions.include),
                   exclude=tuple(conf.dimensions.exclude),
                   max_value_length=conf.dimensions.max_value_length)

    def accepts(self, key, value):
        return len(value) <= self.max_value_length and self._key_ok(key)

    def _key_ok(self, key):
        known = self._keys.get(key)
        if known is None:
            known = self._keys[key] = (
                len(key) <= schema.DIMENSION_KEY_LENGTH
                and any(fnmatch.fnmatchcase(key, p) for p in self.include)
                and not any(fnmatch.fnmatchcase(key, p)
                            for p in self.exclude))
        return known


def extract(resource_metadata, dim_filter):
    """The sorted (key, value) pairs that are dimensions of a sample.

    The API already flattens metadata into string values; anything else
    (a nested object from an unusual backend) stays in the JSON only.
    """
    pairs = []
    for key, value in (resource_metadata or {}).items():
        if isinstance(value, (dict, list)) or value is None:
            continue
        value = value if isinstance(value, str) else str(value)
        if dim_filter.accepts(key, value):
            pairs.append((key, value))
    return tuple(sorted(pairs))


# The form hashed into dimension_set_id (sorted pairs as compact JSON).
# Stored in every sample row: bump only together with a migration (or
# dbsync --rebuild-dimensions) and re-pin tests/unit/test_pinned_hashes.py.
SET_ID_VERSION = 1


def set_id(pairs):
    """Content hash of a dimension set; None for a sample without any."""
    if not pairs:
        return None
    canonical = json.dumps(pairs, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(canonical.encode('utf-8')).hexdigest()

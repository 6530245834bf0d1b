"""The hashes stored forever, pinned to literal values.

``query_fingerprint`` is stored in every checkpoint (a different value
restarts the pair from start_time) and ``dimension_set_id`` in every
sample row (a different value orphans every dimension set). A refactoring
that changes either fails here; a deliberate change bumps the version
constant, migrates the stored values, and re-pins.
"""

import pytest

from ceilometer_export import dimensions
from ceilometer_export import query
from ceilometer_export.query import filter as filter_mod

FINGERPRINTS = {
    '': '4d94345dc6c58815bf3882b554a33e53cdcbae579a74b851d9539e0f5194e5d6',
    'project_id=p-alpha-0001;metadata.instance_type=m1.small':
        '2796fafaaa0f3db722ebe30426e588f5730e7b656ea37ba8c4627613ce9d054d',
    'metadata.memory_mb=2048':
        '150e23bace17bda9812abad69f38be990eacd10ccc8c25620ae49e5315b8eed1',
    'user=u1;resource_id!=r2;metadata.flag=boolean::true':
        'c37f64bac6f76b1b34837b4577a1d7b6b957fb3a3b50f94ab510a2457072efb8',
    '{"or": [{"=": {"project_id": "a"}}, {"=": {"project_id": "b"}}]}':
        '95ee74184b1ce0b08284990506043dd8f927dcc5de175a7859c54ed9bf9b24b5',
    '{"and": [{">=": {"volume": 1.5}}, {"=~": {"resource_id": "^inst"}}]}':
        '114af438f82dd88eb04f210ff590efbedee8b9ae6f42816a3e31d4e3bc63aba2',
}

SET_IDS = [
    ((('flavor', 'm1.small'),),
     '22eb681cc267313742d0de636cdbac71f8df52a847598f9aaea27b1b51ec8a96'),
    ((('flavor', 'm1.small'), ('status', 'active')),
     'a3d80fcf9508f4680166bd71724286682c5d2fc3d33fcf0784fd63fb51a1fe3a'),
    ((('name', 'vm-\u00fc'), ('n', '1')),
     'bc198347c31926a89317fb9949ce5852b6640fc3d946ce81c0c5286fe9869aaa'),
]


def test_versions_the_pins_belong_to():
    assert filter_mod.FINGERPRINT_VERSION == 1
    assert dimensions.SET_ID_VERSION == 1


@pytest.mark.parametrize('text,want', sorted(FINGERPRINTS.items()))
def test_query_fingerprint_is_pinned(text, want):
    assert query.parse_filter(text).fingerprint() == want


@pytest.mark.parametrize('text', [
    # Spellings of one query share its fingerprint.
    'metadata.instance_type=m1.small;project=p-alpha-0001',
    ' project_id=p-alpha-0001;metadata.instance_type=m1.small ',
])
def test_equivalent_spellings_share_the_pinned_fingerprint(text):
    assert query.parse_filter(text).fingerprint() == FINGERPRINTS[
        'project_id=p-alpha-0001;metadata.instance_type=m1.small']


@pytest.mark.parametrize('pairs,want', SET_IDS)
def test_dimension_set_id_is_pinned(pairs, want):
    assert dimensions.set_id(pairs) == want


def test_set_id_of_extracted_metadata_is_pinned():
    metadata = {'status': 'active', 'flavor': 'm1.small', 'nested': {'a': 1},
                'none': None}
    pairs = dimensions.extract(metadata, dimensions.DimensionFilter())
    assert dimensions.set_id(pairs) == SET_IDS[1][1]
    assert dimensions.set_id(()) is None

import numpy as np
import pytest

from spatialclaw_ros.perception import InvalidRequestError
from spatialclaw_ros.perception._labels import LabelImageSegmenter

IMAGE = np.zeros((10, 12, 3), np.uint8)


def labels():
    out = np.zeros((10, 12), dtype=np.int32)
    out[1:3, 1:4] = 4
    out[5:9, 6:12] = 9
    out[0, 11] = 2
    return out


SEGMENTER = LabelImageSegmenter([(4, "Chair_1"), (9, "chair 2"), (2, "table")])


def test_prompt_matches_names_ignoring_case_plural_and_number():
    result = SEGMENTER.segment(IMAGE, "chairs", 0.5, labels())
    assert result.labels == ("chair 2", "Chair_1")
    assert result.keys.tolist() == [9, 4]
    assert result.masks.sum(axis=(1, 2)).tolist() == [24, 6]


def test_boxes_are_pixel_extents():
    result = SEGMENTER.segment(IMAGE, "chair", 0.5, labels())
    assert result.boxes.tolist() == [[6.0, 5.0, 11.0, 8.0], [1.0, 1.0, 3.0, 2.0]]


def test_unknown_name_gives_no_instance():
    result = SEGMENTER.segment(IMAGE, "sofa", 0.5, labels())
    assert result.masks.shape == (0, 10, 12)


def test_frame_without_label_image_is_an_invalid_request():
    with pytest.raises(InvalidRequestError, match="label image"):
        SEGMENTER.segment(IMAGE, "chair", 0.5, None)


def test_float_label_image_is_refused():
    with pytest.raises(InvalidRequestError, match="integer"):
        SEGMENTER.segment(IMAGE, "chair", 0.5, labels().astype(np.float32))


def test_frame_label_map_replaces_the_settings_map():
    result = SEGMENTER.segment(IMAGE, "table", 0.5, labels(), {9: "oak table", 4: "sofa"})
    assert result.labels == ("oak table",) and result.keys.tolist() == [9]


def test_settings_map_names_ids_when_the_frame_has_no_map():
    for frame_map in (None, {}):
        assert SEGMENTER.segment(IMAGE, "table", 0.5, labels(), frame_map).keys.tolist() == [2]


def test_no_map_at_all_is_an_invalid_request():
    with pytest.raises(InvalidRequestError, match="label map"):
        LabelImageSegmenter([]).segment(IMAGE, "chair", 0.5, labels(), None)


@pytest.mark.parametrize(
    ("prompt", "name", "matches"),
    [
        ("chair", "orange chair", True),
        ("orange chairs", "orange chair", True),
        ("red chair", "orange chair", False),
        ("table", "table lamp", False),
        ("boxes", "orange box", True),
        ("shelves", "gray shelf", True),
        ("walls", "east wall", True),
    ],
)
def test_prompt_matches_the_last_words_of_a_name(prompt, name, matches):
    result = LabelImageSegmenter([(4, name)]).segment(IMAGE, prompt, 0.5, labels())
    assert (len(result.keys) == 1) is matches


def test_no_match_still_carries_instance_keys_for_tracking():
    result = SEGMENTER.segment(IMAGE, "sofa", 0.5, labels())
    assert result.keys is not None and result.keys.shape == (0,)

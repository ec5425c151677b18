import numpy as np
import pytest

from spatialclaw_ros.perception import Segmenter
from spatialclaw_ros.perception._sam3 import Sam3Segmenter


@pytest.fixture(scope="module")
def segmenter(sam3_dir):
    return Sam3Segmenter(str(sam3_dir), "cpu", mask_threshold=0.5)


def test_loads_a_checkpoint_directory_as_a_segmenter(segmenter):
    assert isinstance(segmenter, Segmenter)


def test_masks_scores_and_boxes_are_on_the_input_grid_best_first(segmenter, image):
    instances = segmenter.segment(image, "red chair", min_score=0.0, labels=None)
    count = len(instances.scores)
    assert count == 8  # every query of the tiny model passes a zero threshold
    assert instances.masks.shape == (count, *image.shape[:2]) and instances.masks.dtype == bool
    assert instances.boxes.shape == (count, 4)
    assert np.all(np.diff(instances.scores) <= 0)
    assert instances.labels == ("red chair",) * count


def test_score_threshold_drops_instances(segmenter, image):
    assert len(segmenter.segment(image, "chair", min_score=1.0, labels=None).scores) == 0


def test_prompt_changes_the_result(segmenter, image):
    chair = segmenter.segment(image, "chair", min_score=0.0, labels=None)
    door = segmenter.segment(image, "door", min_score=0.0, labels=None)
    assert not np.allclose(chair.scores, door.scores)

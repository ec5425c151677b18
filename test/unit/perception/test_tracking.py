import numpy as np

from spatialclaw_ros.perception import Instances
from spatialclaw_ros.perception._tracking import link_instances, mask_iou


def box_mask(r0, c0, size=4, shape=(20, 20)):
    mask = np.zeros(shape, dtype=bool)
    mask[r0 : r0 + size, c0 : c0 + size] = True
    return mask


def instances(*masks, keys=None):
    n = len(masks)
    stack = np.stack(masks) if masks else np.zeros((0, 20, 20), dtype=bool)
    return Instances(
        stack, np.linspace(0.9, 0.5, n).astype(np.float32), np.zeros((n, 4), np.float32), ("x",) * n, keys
    )


def test_mask_iou_exact_values():
    iou = mask_iou(np.stack([box_mask(0, 0)]), np.stack([box_mask(0, 2), box_mask(10, 10)]))
    np.testing.assert_allclose(iou, [[8 / 24, 0.0]])


def test_moving_objects_keep_their_ids_when_detection_order_swaps():
    frames = [instances(box_mask(0, 0), box_mask(10, 10)), instances(box_mask(11, 11), box_mask(1, 1))]
    tracked = link_instances(frames, min_iou=0.3)
    assert tracked.present.all()
    assert tracked.masks[0, 1].sum() == 16 and tracked.masks[0, 1][1, 1]


def test_low_overlap_starts_a_new_track():
    tracked = link_instances([instances(box_mask(0, 0)), instances(box_mask(0, 3))], min_iou=0.3)
    assert tracked.present.tolist() == [[True, False], [False, True]]
    assert np.isnan(tracked.scores[0, 1])


def test_object_hidden_for_a_frame_is_picked_up_again():
    frames = [instances(box_mask(0, 0)), instances(), instances(box_mask(0, 1))]
    assert link_instances(frames, min_iou=0.3).present.tolist() == [[True, False, True]]


def test_keyed_instances_link_by_key():
    frames = [instances(box_mask(0, 0), keys=np.array([5])), instances(box_mask(10, 10), keys=np.array([5]))]
    assert link_instances(frames, min_iou=0.3).present.tolist() == [[True, True]]

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_rotated_translated_box_corners_and_contains():
    R = geo.rotation_about_axis([0, 0, 1], np.pi / 2)
    box = geo.Box3D(center=[1.0, 2.0, 0.5], size=[4.0, 2.0, 1.0], rotation=R)
    # Box x (length 4) now runs along world y.
    np.testing.assert_allclose(box.corners()[0], [1.0 + 1.0, 2.0 - 2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(box.corners()[7], [1.0 - 1.0, 2.0 + 2.0, 1.0], atol=1e-12)
    assert box.contains([[1.0, 3.9, 0.5], [2.1, 2.0, 0.5]]).tolist() == [True, False]


def test_volume_and_quaternion():
    box = geo.Box3D(center=[0, 0, 0], size=[2, 3, 4], rotation=geo.rotation_about_axis([1, 0, 0], np.pi))
    assert box.volume == 24.0
    np.testing.assert_allclose(box.quaternion, [1.0, 0.0, 0.0, 0.0], atol=1e-12)


def test_negative_size_is_rejected():
    with pytest.raises(ValueError, match="size"):
        geo.Box3D(center=[0, 0, 0], size=[1, -1, 1])


def test_non_rotation_is_rejected():
    with pytest.raises(ValueError, match="rotation"):
        geo.Box3D(center=[0, 0, 0], size=[1, 1, 1], rotation=np.diag([1.0, 1.0, -1.0]))


def test_fields_are_read_only():
    box = geo.Box3D(center=[0, 0, 0], size=[1, 1, 1])
    with pytest.raises(ValueError):
        box.center[0] = 5.0

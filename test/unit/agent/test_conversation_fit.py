import itertools

import numpy as np

from spatialclaw_ros.agent._conversation import Conversation, Turn
from spatialclaw_ros.agent._images import encode_rgb


def _image(label):
    return encode_rgb(np.zeros((448, 448, 3), np.uint8), label, 1024, 80)


def _conversation():
    conversation = Conversation()
    conversation.add(Turn("system", "system", "system prompt"))
    conversation.add(Turn("user", "task", "question", [_image("key 0")]))
    for step in range(4):
        conversation.add(Turn("assistant", "cell", f"```python\nx{step} = {step}\n```" + " " * 2000))
        conversation.add(
            Turn("user", "observation", f"observation {step}" + "y" * 2000, [_image(f"shown {step}")])
        )
    return conversation


def test_fits_without_change_when_small():
    conversation = _conversation()
    before = conversation.estimate()
    assert conversation.fit(before)
    assert conversation.dropped_images == 0


def test_drops_shown_images_oldest_first_before_key_frames():
    conversation = _conversation()
    image_cost = (
        conversation.turns[3].tokens() - Turn("user", "observation", conversation.turns[3].text).tokens()
    )
    assert conversation.fit(conversation.estimate() - image_cost + 30)
    assert conversation.dropped_images == 1
    assert not conversation.turns[3].images and "shown 0" in conversation.turns[3].text
    assert conversation.turns[1].images and conversation.turns[-1].images


def test_compresses_old_turns_after_all_images():
    conversation = _conversation()
    no_images = sum(Turn(t.role, t.kind, t.text).tokens() for t in conversation.turns) + 16
    assert conversation.fit(no_images - 600)
    assert conversation.dropped_images == 5
    assert conversation.compressed_turns >= 1
    assert len(conversation.turns[-1].text) > 2000


def test_drops_whole_old_steps_last_and_keeps_roles_alternating():
    conversation = _conversation()
    assert conversation.fit(1400)
    assert conversation.dropped_turns >= 1
    roles = [turn.role for turn in conversation.turns]
    assert all(a != b for a, b in itertools.pairwise(roles[1:]))
    assert "older steps removed" in conversation.turns[1].text


def test_calibration_scales_the_estimate():
    conversation = _conversation()
    estimate = conversation.estimate()
    conversation.calibrate(estimate, estimate * 2)
    assert abs(conversation.estimate() - 2 * estimate) < 40

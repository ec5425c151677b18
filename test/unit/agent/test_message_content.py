"""A turn on the wire: string content unless it carries images (llama.cpp's default template needs it)."""

import json

import numpy as np

from spatialclaw_ros.agent._conversation import Conversation, Turn
from spatialclaw_ros.agent._images import encode_rgb


def _image(label):
    return encode_rgb(np.zeros((56, 84, 3), np.uint8), label, 1024, 80)


def test_a_text_turn_is_a_string():
    for role in ("system", "user", "assistant"):
        assert json.loads(Turn(role, "task", "hello").message_json()) == {"role": role, "content": "hello"}


def test_an_image_turn_is_text_then_a_caption_and_an_image_per_image():
    turn = Turn("user", "task", "look", [_image("frame 0"), _image("")])
    content = json.loads(turn.message_json())["content"]
    assert [part["type"] for part in content] == ["text", "text", "image_url", "text", "image_url"]
    assert [content[k]["text"] for k in (0, 1, 3)] == ["look", "Image: frame 0", "Image:"]
    assert content[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_a_turn_whose_images_were_dropped_to_fit_becomes_a_string_and_is_counted_as_one():
    conversation = Conversation()
    conversation.add(Turn("system", "system", "rules"))
    conversation.add(Turn("user", "task", "question", [_image("key 0")]))
    assert isinstance(json.loads(conversation.messages()[1])["content"], list)
    assert conversation.fit(conversation.estimate() - 1)
    task = conversation.turns[1]
    sent = json.loads(conversation.messages()[1])
    assert sent == {"role": "user", "content": task.text} and "removed to save context" in task.text
    assert task.tokens() == Turn("user", "task", task.text).tokens()

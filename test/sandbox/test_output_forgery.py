import base64

import pytest

pytestmark = pytest.mark.sandbox

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_forged_display_payloads_are_sanitized(kernel):
    fake_png = base64.b64encode(b"<script>not a png</script>").decode()
    code = f"""
from IPython.display import publish_display_data
publish_display_data({{'image/png': {fake_png!r}, 'text/plain': 'fake'}})
publish_display_data({{'image/png': 'not base64 at all!!'}})
publish_display_data({{'application/json': {{'nested': [1, 2, {{'deep': True}}]}}}})
publish_display_data({{'text/plain': 'x' * 300_000}})
publish_display_data({{'image/png': {PNG_1PX!r}}})
"""
    result = kernel.execute(code)
    assert result.status == "ok" and result.truncated
    kinds = [sorted(display.data) for display in result.displays]
    assert kinds == [["text/plain"], ["application/json"], ["image/png"]]
    assert result.displays[1].data["application/json"] == '{"nested": [1, 2, {"deep": true}]}'
    assert "invalid image/png" in result.stderr and "size limit" in result.stderr


def test_display_flood_is_capped(kernel):
    result = kernel.execute("from IPython.display import display\nfor i in range(500):\n    display(i)")
    assert len(result.displays) == 64 and result.truncated


def test_messages_with_a_foreign_parent_are_ignored(kernel):
    code = """
k = get_ipython().kernel
fake_parent = {'header': {'msg_id': 'forged', 'msg_type': 'execute_request'}}
k.session.send(k.iopub_socket, 'stream', {'name': 'stdout', 'text': 'FORGED'}, parent=fake_parent)
k.session.send(k.iopub_socket, 'status', {'execution_state': 'idle'}, parent=fake_parent)
print('real')
"""
    result = kernel.execute(code)
    assert result.stdout == "real\n"


def test_matplotlib_figure_is_captured_as_png(kernel):
    code = """
import io
import matplotlib.pyplot as plt
from IPython.display import Image
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
buf = io.BytesIO()
fig.savefig(buf, format='png')
display(Image(buf.getvalue()))
"""
    result = kernel.execute(code)
    png = base64.b64decode(result.displays[0].data["image/png"])
    assert png.startswith(b"\x89PNG")

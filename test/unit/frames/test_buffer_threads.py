import threading

import numpy as np

from spatialclaw_ros.frames import FrameBuffer, numpy_to_image

NS = 1_000_000_000


def test_concurrent_ingest_and_selection_keep_counts_consistent(msgs):
    buffer = FrameBuffer(keyframe_hz=5.0, history_s=2.0, max_memory_mb=0.2)
    payloads = {
        camera: [
            msgs.cdr_image(msgs.image(numpy_to_image(np.zeros((40, 50, 3), np.uint8), "rgb8"), i * NS // 30))
            for i in range(300)
        ]
        for camera in ("a", "b", "c")
    }
    failures: list[BaseException] = []

    def ingest(camera):
        for payload in payloads[camera]:
            buffer.add_image(camera, payload)

    def query():
        try:
            for _ in range(200):
                if buffer.cameras_with_frames():
                    frames = buffer.select(None, 1.0, 8)
                    assert 1 <= len(frames) <= 8
                assert buffer.total_bytes <= 0.2 * 1024 * 1024
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=ingest, args=(c,)) for c in payloads] + [
        threading.Thread(target=query)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    for stats in buffer.stats().values():
        assert stats.received == 300
        assert stats.received == stats.rejected + stats.dropped + stats.evicted + stats.kept

"""Answers a code query and a scripted-VLM query through the engine with ROS made unimportable.

Run as a script (the test runs it in a subprocess): a meta path finder refuses rclpy and the ROS
message packages before anything else is imported; prints one JSON line with both answers.
"""

from __future__ import annotations

import importlib.abc
import json
import sys
import tempfile
import time
from pathlib import Path

ROS_PACKAGES = ("rclpy", "sensor_msgs", "std_msgs", "geometry_msgs", "builtin_interfaces", "rcl_interfaces")


class _NoROS(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ROS_PACKAGES:
            raise ImportError(f"{name} is blocked: the engine must not need ROS")
        return None


sys.meta_path.insert(0, _NoROS())
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from agent.conftest import scene_buffer  # noqa: E402

from spatialclaw_ros.agent import Agent, AgentSettings, LLMSettings  # noqa: E402
from spatialclaw_ros.engine import QueryDefaults, QueryEngine, Request, new_query_id  # noqa: E402
from spatialclaw_ros.frames import BufferSource  # noqa: E402
from spatialclaw_ros.sandbox import KernelPool, SandboxSettings  # noqa: E402

from support.scripted_vlm import ScriptedVLM  # noqa: E402

CODE = "ReturnAnswer(float(np.nanmedian(frames[-1].depth)), measurements=[Measurement('wall', 2.0)])"
REPLY = f"Measure the wall.\n```python\n{CODE}\n```"


def main() -> None:
    """Run both queries; print what came back."""
    defaults = QueryDefaults(
        cameras=("front",),
        target_frame="",
        max_frames=8,
        timeout_s=60.0,
        max_steps=4,
        sandbox_off=False,
        points_stride=8,
    )
    with tempfile.TemporaryDirectory() as traces, ScriptedVLM([{"content": REPLY}]) as server:
        agent = Agent(
            LLMSettings(base_url=server.base_url, model="scripted-vlm"),
            AgentSettings(planning=False, max_steps=4, trace_dir=Path(traces)),
        )
        with KernelPool(SandboxSettings(mode="strict"), size=1) as pool:
            engine = QueryEngine(
                frames=BufferSource(scene_buffer()), pool=pool, pool_error="", agent=agent, defaults=defaults
            )
            results = {}
            for kind, request in (
                ("code", Request(code=CODE, answer_type="number")),
                ("model", Request("How far is the wall?", answer_type="number")),
                ("unknown_camera", Request("q", cameras=("left",))),
            ):
                result = engine.run(request, query_id=new_query_id(), started=time.monotonic())
                results[kind] = {
                    "error_code": str(result.answer.error_code),
                    "error_message": result.answer.error_message,
                    "answer": result.answer.answer,
                    "measurements": [m.value for m in result.answer.measurements],
                    "source_frames": len(result.answer.source_frames),
                    "points": 0 if result.points is None else len(result.points[0]),
                }
        agent.close()
        results["model_requests"] = len(server.requests)
    results["ros_modules_loaded"] = sorted(name for name in sys.modules if name.split(".")[0] in ROS_PACKAGES)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

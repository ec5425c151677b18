"""Fixtures of the service tests: the agent tests' sandboxed kernel pool, kernel and agent factory."""

from agent.conftest import kernel, make_agent, pool

__all__ = ["kernel", "make_agent", "pool"]

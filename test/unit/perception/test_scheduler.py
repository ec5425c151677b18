"""FairScheduler: one worker, round-robin between identities, bounded queues, ended identities dropped."""

import threading

import pytest

from spatialclaw_ros.perception._scheduler import FairScheduler, Job
from spatialclaw_ros.protocol.perception import PerceptionError


@pytest.fixture
def scheduler():
    scheduler = FairScheduler(max_queued_per_query=2)
    yield scheduler
    scheduler.close()


class Gate:
    """A first job that holds the worker until released, so that others queue behind it."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, job):
        self.started.set()
        assert self.release.wait(10)
        return "gate"


def hold(scheduler, identity="holder"):
    gate = Gate()
    future = scheduler.submit(identity, gate)
    assert gate.started.wait(10)
    return gate, future


def test_identities_are_served_round_robin(scheduler):
    gate, _ = hold(scheduler)
    order = []
    futures = [
        scheduler.submit(identity, lambda job, name=name: order.append(name))
        for identity, name in (("a", "a1"), ("a", "a2"), ("b", "b1"), ("b", "b2"), ("c", "c1"))
    ]
    gate.release.set()
    for future in futures:
        future.result(10)
    assert order == ["a1", "b1", "c1", "a2", "b2"]


def test_a_full_queue_is_refused_busy(scheduler):
    gate, _ = hold(scheduler)
    scheduler.submit("a", lambda job: 1)
    scheduler.submit("a", lambda job: 2)
    with pytest.raises(PerceptionError) as caught:
        scheduler.submit("a", lambda job: 3)
    assert caught.value.code == "BUSY"
    assert scheduler.submit("b", lambda job: 4)  # another query still queues
    gate.release.set()


def test_the_host_is_not_bounded(scheduler):
    gate, _ = hold(scheduler)
    futures = [scheduler.submit("", lambda job, i=i: i) for i in range(5)]
    gate.release.set()
    assert [future.result(10) for future in futures] == list(range(5))


def test_ending_drops_waiting_calls_at_once(scheduler):
    gate, _ = hold(scheduler)
    ran = []
    dropped = [scheduler.submit("a", lambda job: ran.append("a")) for _ in range(2)]
    kept = scheduler.submit("b", lambda job: "b")
    assert scheduler.end("a") == 2
    for future in dropped:
        with pytest.raises(PerceptionError) as caught:
            future.result(0)
        assert caught.value.code == "CANCELED"
    gate.release.set()
    assert kept.result(10) == "b" and ran == []


def test_a_running_call_of_an_ended_query_is_discarded_and_not_committed(scheduler):
    gate, future = hold(scheduler, "a")
    committed = []
    follow = scheduler.submit("a", lambda job: job.commit(lambda: committed.append(1)))
    scheduler.end("a")
    gate.release.set()
    with pytest.raises(PerceptionError) as caught:
        future.result(10)
    assert caught.value.code == "CANCELED" and follow.exception(0).code == "CANCELED"
    assert committed == []


def test_commit_runs_unless_discarded():
    job = Job("a", lambda job: None)
    assert job.commit(lambda: None)
    job.discard()
    assert not job.commit(lambda: pytest.fail("committed after discard"))


def test_an_ended_query_stays_ended(scheduler):
    scheduler.end("a")
    with pytest.raises(PerceptionError) as caught:
        scheduler.submit("a", lambda job: 1)
    assert caught.value.code == "CANCELED" and scheduler.ended("a")


def test_ended_queries_are_remembered_in_bounded_number():
    scheduler = FairScheduler(max_queued_per_query=1, ended_kept=2)
    try:
        for identity in ("a", "b", "c"):
            scheduler.end(identity)
        assert [scheduler.ended(identity) for identity in ("a", "b", "c")] == [False, True, True]
    finally:
        scheduler.close()


def test_ended_queries_are_forgotten_after_their_time():
    scheduler = FairScheduler(max_queued_per_query=1, ended_kept_s=0.0)
    try:
        scheduler.end("a")
        assert scheduler.submit("a", lambda job: "again").result(10) == "again"
    finally:
        scheduler.close()


def test_errors_reach_the_caller(scheduler):
    def fail(job):
        raise PerceptionError("INVALID_QUERY", "bad")

    assert scheduler.submit("a", fail).exception(10).code == "INVALID_QUERY"


def test_close_fails_waiting_calls_as_unavailable():
    scheduler = FairScheduler(max_queued_per_query=2)
    gate, _ = hold(scheduler)
    waiting = scheduler.submit("a", lambda job: 1)
    scheduler.close()
    gate.release.set()
    assert waiting.exception(10).code == "PERCEPTION_UNAVAILABLE"

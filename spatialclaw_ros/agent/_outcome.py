"""The end of a query: its :class:`QueryOutcome`, the trace's last event and report, the ``done`` progress."""

from __future__ import annotations

from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._states import Answered, Ended
from spatialclaw_ros.agent._types import ErrorCode, QueryOutcome, outcome_geometry
from spatialclaw_ros.protocol.text import clean_text, clean_value


def finish(query: Query, end: Ended) -> QueryOutcome:
    """The outcome of ``query`` that ended in ``end``; closes its trace.

    A failure while a perception backend was unavailable is reported as ``PERCEPTION_UNAVAILABLE``.
    Every text of the outcome is valid Unicode (:func:`clean_value`): lone surrogates become U+FFFD.
    """
    if isinstance(end, Answered):
        payload, final, code, message = clean_value(end.payload), end.final, ErrorCode.NONE, ""
    else:
        payload, final, code, message = None, False, end.code, clean_text(end.message)
    if code == ErrorCode.AGENT_FAILED and query.perception_unavailable:
        code = ErrorCode.PERCEPTION_UNAVAILABLE
        message = f"{message} (a perception backend was unavailable)"
    measurements, objects, trajectories = outcome_geometry(payload) if payload is not None else ((), (), ())
    trace = query.trace
    outcome = QueryOutcome(
        query_id=trace.dir.name if trace.dir is not None else query.request.query_id,
        question=query.request.question,
        answer=payload["answer"] if payload is not None else "",
        error_code=code,
        error_message=message,
        measurements=measurements,
        objects=objects,
        trajectories=trajectories,
        source_stamps=query.source_stamps,
        world_frame=query.world_frame,
        steps=query.budget.steps,
        elapsed_s=query.budget.elapsed_s(),
        trace_uri=trace.uri,
        final_fallback=final,
        tokens=query.tokens.per_role(),
        last_shown_jpeg=query.last_shown_jpeg,
    )
    conversation = query.conversation
    trace.event(
        "outcome",
        answer=outcome.answer,
        error_code=code,
        error_message=message,
        steps=outcome.steps,
        elapsed_s=outcome.elapsed_s,
        final_fallback=final,
        first_request_s=query.first_request_s,
        tokens=query.tokens.report(),
        stage_s=query.stages.totals(),
        context={
            "dropped_images": conversation.dropped_images,
            "compressed_turns": conversation.compressed_turns,
            "dropped_steps": conversation.dropped_turns,
        },
        value=payload.get("value") if payload is not None else None,
    )
    trace.finish()
    query.progress("done", f"{code}: {outcome.answer or message}"[:200])
    return outcome

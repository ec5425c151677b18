"""ErrorCode is the one list of error codes: the same names and numbers as SpatialAnswer.msg's constants."""

from __future__ import annotations

import json
import re
from pathlib import Path

from spatialclaw_ros.protocol import ErrorCode

MSG = Path(__file__).resolve().parents[3] / "msg" / "SpatialAnswer.msg"
CONSTANT = re.compile(r"^int16\s+([A-Z_]+)\s*=\s*(\d+)", re.M)


def test_names_and_numbers_match_the_message_constants():
    constants = {name: int(number) for name, number in CONSTANT.findall(MSG.read_text())}
    assert constants == {code.name: code.number for code in ErrorCode}


def test_a_code_is_its_name_everywhere_text_goes():
    code = ErrorCode.TIMEOUT
    assert code == "TIMEOUT" and str(code) == "TIMEOUT" and f"{code}" == "TIMEOUT"
    assert json.dumps({"error_code": code}) == '{"error_code": "TIMEOUT"}'
    assert ErrorCode("NOT_READY") is ErrorCode.NOT_READY


def test_a_perception_error_code_is_read_back_from_its_text_only():
    from spatialclaw_ros.protocol.perception import ERROR_CODES, PerceptionError

    for code in ERROR_CODES:
        assert PerceptionError.code_in(str(PerceptionError(code, "why: details"))) == code
    assert PerceptionError.code_in("the service said PERCEPTION_UNAVAILABLE: later") == ""
    assert PerceptionError.code_in("ValueError: bad") == ""

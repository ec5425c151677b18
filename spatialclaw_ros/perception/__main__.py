"""Run the perception service process (see :mod:`spatialclaw_ros.perception._serve`)."""

from spatialclaw_ros.perception._serve import main

main()

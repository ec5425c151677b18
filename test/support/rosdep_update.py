"""``rosdep update`` on PyYAML's C parser: the same sources cache, byte for byte, in a third of the time.

rosdep and rosdistro read the rosdep database and the distribution files (1.6 MB of YAML) with
``yaml.safe_load``, PyYAML's pure-Python parser: about 5 s here, against 1.5 s on libyaml's parser with the
same safe constructor and resolver. test/unit/test_rosdep_keys.py runs this in place of ``rosdep update``
to keep the fast tier fast. Usage: ``python rosdep_update.py [rosdep update's options]``.
"""

import functools
import sys

import yaml
from rosdep2.main import rosdep_main

if __name__ == "__main__":
    yaml.safe_load = functools.partial(yaml.load, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    rosdep_main(["update", *sys.argv[1:]])

"""Scratch, /tmp and /dev/shm are tmpfs mounts of their own, bounded in bytes and in files."""

import pytest

pytestmark = pytest.mark.sandbox


@pytest.fixture
def quota_kernel(kernel, pool):
    if pool.isolation.scratch_quota.startswith("none"):
        pytest.skip(f"no scratch quota here: {pool.isolation.scratch_quota}")
    return kernel


def test_writing_past_the_scratch_size_fails_with_enospc(quota_kernel, pool):
    code = """
chunk = b'x' * 2**20
for n in range(100):
    with open(f'fill{n}.bin', 'wb') as f:
        for _ in range(32):
            f.write(chunk)
"""
    result = quota_kernel.execute(code, timeout_s=60)
    assert result.error.ename == "OSError" and "No space left" in result.error.evalue
    used = sum(path.stat().st_size for path in quota_kernel.scratch_dir.glob("fill*.bin"))
    assert used <= pool.settings.scratch_mb * 2**20
    after = quota_kernel.execute(
        "import glob, os\nfor p in glob.glob('fill*'):\n    os.remove(p)\nopen('ok', 'w').write('y')"
    )
    assert after.status == "ok", after


def test_creating_files_past_the_inode_limit_fails_with_enospc(quota_kernel, pool):
    code = """
import errno, os
for place in ('/scratch/many', '/tmp/many', '/dev/shm/many'):
    os.mkdir(place)
    made = 0
    try:
        while True:
            open(f'{place}/{made}', 'w').close()
            made += 1
    except OSError as exc:
        print(place, made, errno.errorcode[exc.errno])
    for name in os.listdir(place):
        os.remove(f'{place}/{name}')
"""
    result = quota_kernel.execute(code, timeout_s=60)
    lines = [line.split() for line in result.stdout.strip().splitlines()]
    assert [(place, error) for place, _made, error in lines] == [
        ("/scratch/many", "ENOSPC"),
        ("/tmp/many", "ENOSPC"),
        ("/dev/shm/many", "ENOSPC"),
    ]
    assert all(int(made) < pool.settings.scratch_inodes for _place, made, _error in lines)
    assert quota_kernel.execute("open('/scratch/after', 'w').write('y')").status == "ok"

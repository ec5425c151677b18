from spatialclaw_ros.sandbox._env import is_forbidden_env_key, kernel_environ, scrub_environ


def test_secrets_and_ros_variables_are_forbidden():
    for key in (
        "OPENAI_API_KEY",
        "HF_TOKEN",
        "ROS_DOMAIN_ID",
        "RMW_IMPLEMENTATION",
        "AMENT_PREFIX_PATH",
        "FASTRTPS_DEFAULT_PROFILES_FILE",
        "MY_SECRET",
        "db_password",
        "JPY_PARENT_PID",
        "LD_PRELOAD",
        "PYTHONPATH",
        "AWS_ACCESS_KEY_ID",
        "GITHUB_TOKEN",
    ):
        assert is_forbidden_env_key(key), key


def test_harmless_variables_are_kept():
    for key in ("PATH", "LANG", "TERM", "TZ", "USER"):
        assert not is_forbidden_env_key(key), key


def test_scrub_removes_ros_entries_from_path():
    clean = scrub_environ(
        {"PATH": "/opt/ros/jazzy/bin:/usr/bin:/ws/install/colcon_pkg/bin", "OPENAI_API_KEY": "x"}
    )
    assert clean == {"PATH": "/usr/bin"}


def test_kernel_environ_has_no_forbidden_key_except_its_own_pythonpath():
    env = kernel_environ(
        bin_dir="/k/bin",
        scratch="/scratch",
        snapshot="/snapshot",
        services="/run/s",
        pythonpath="/opt/lib",
        compute_threads=2,
    )
    assert [key for key in env if is_forbidden_env_key(key)] == [
        "PYTHONPATH",
        "PYTHONNOUSERSITE",
        "PYTHONDONTWRITEBYTECODE",
    ]
    assert env["HOME"] == env["SPATIALCLAW_SCRATCH"] == "/scratch"
    assert env["MPLCONFIGDIR"].startswith("/scratch/")

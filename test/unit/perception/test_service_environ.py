from spatialclaw_ros.perception._process import PACKAGE_ROOT, service_environ


def test_only_allowed_variables_pass_and_no_secret_ever():
    node = {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "CUDA_VISIBLE_DEVICES": "0",
        "HF_HOME": "/models",
        "OPENAI_API_KEY": "sk-1",
        "HF_TOKEN": "hf-2",
        "CUDA_AUTH_COOKIE": "3",
        "ROS_DOMAIN_ID": "7",
        "HOME": "/root",
        "PYTHONPATH": "/opt/extra",
    }
    environment = service_environ(node, {"HOME": "/run/service-home"})
    assert environment == {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "CUDA_VISIBLE_DEVICES": "0",
        "HF_HOME": "/models",
        "HOME": "/run/service-home",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": f"{PACKAGE_ROOT}:/opt/extra",
    }


def test_an_explicit_pythonpath_replaces_the_inherited_one():
    environment = service_environ({"PYTHONPATH": "/node"}, {"PYTHONPATH": "/shim"})
    assert environment["PYTHONPATH"] == f"{PACKAGE_ROOT}:/shim"

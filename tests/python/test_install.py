"""`cmake --install` puts the package where Debian's python3 imports it:
lib/python3/dist-packages/sluice under the prefix, stubs included."""
import os
import shutil
import subprocess
import sys

import pytest


def test_cmake_install_gives_an_importable_package(tmp_path):
    build = os.environ.get("SLUICE_BINARY_DIR")
    if not build or shutil.which("cmake") is None:
        pytest.skip("needs SLUICE_BINARY_DIR (set by ctest) and cmake")
    subprocess.run(["cmake", "--install", build, "--prefix", str(tmp_path)], check=True,
                   stdout=subprocess.DEVNULL)
    site = tmp_path / "lib" / "python3" / "dist-packages"
    for name in ["__init__.py", "io.py", "data.py", "io.pyi", "data.pyi", "py.typed"]:
        assert (site / "sluice" / name).exists(), name
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c",
                          "import sluice; print(sluice.__file__); "
                          "print(sluice.io.decode_raw(b'\\x07', sluice.uint8).tolist())"],
                         check=True, capture_output=True, text=True, env=env, cwd=str(tmp_path)).stdout
    assert out.splitlines()[0].startswith(str(site))
    assert out.splitlines()[1] == "[7]"

"""Builds the native library into the package when pip installs it.

`pip install ./python` runs `swift build -c release --product MaskEvalC` in the repository
(the folder above this one) and copies libMaskEvalC into the package. Set
MASKEVAL_PREBUILT_LIBRARY to a built library to skip the Swift build (scripts/wheel does, with
a library that links the Swift runtime and nifticlib statically).
"""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBRARY = "libMaskEvalC.dylib" if sys.platform == "darwin" else "libMaskEvalC.so"


def native_library():
    prebuilt = os.environ.get("MASKEVAL_PREBUILT_LIBRARY")
    if prebuilt:
        return prebuilt
    if not os.path.exists(os.path.join(ROOT, "Package.swift")):
        sys.exit("maskeval: cannot find the Swift package above %s; build from the repository's python/ folder, "
                 "or set MASKEVAL_PREBUILT_LIBRARY" % HERE)
    if shutil.which("swift") is None:
        sys.exit("maskeval: building from source needs the Swift toolchain (swift on PATH) and libnifti-dev + libdeflate-dev (scripts/install-deps); "
                 "or install a binary wheel made by scripts/wheel")
    command = ["swift", "build", "-c", "release", "--product", "MaskEvalC"]
    print("maskeval: " + " ".join(command), flush=True)
    subprocess.check_call(command, cwd=ROOT)
    binary = subprocess.check_output(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).decode().strip()
    return os.path.join(binary, LIBRARY)


class BuildWithSwift(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "maskeval", LIBRARY)
        shutil.copyfile(native_library(), target)
        os.chmod(target, 0o755)


class NativeDistribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform wheel: it carries a native library


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        # ctypes, no Python C API: any Python 3, this platform.
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"build_py": BuildWithSwift, "bdist_wheel": PlatformWheel}, distclass=NativeDistribution)

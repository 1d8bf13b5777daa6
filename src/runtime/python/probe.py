# pycage probe: what an image (or the host, for local runs) offers, printed as one JSON object.
# Run once per image id as `python3 -I -c <this file>`; the answer decides the installer (uv when present,
# else pip in a venv) and the Python version that environment keys and requirement inference use.
import importlib.util
import json
import os
import shutil
import subprocess
import sys


def uv_version(path):
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip().split(" ")[1] if " " in done.stdout.strip() else done.stdout.strip()


uv = shutil.which("uv")
version = uv_version(uv) if uv else None
result = {
    "pythonVersion": "%d.%d.%d" % sys.version_info[:3],
    "executable": os.path.realpath(sys.executable),
    "uv": uv if version else None,
    "uvVersion": version,
    "venv": importlib.util.find_spec("venv") is not None and importlib.util.find_spec("ensurepip") is not None,
    "pip": importlib.util.find_spec("pip") is not None,
    "path": os.environ.get("PATH", ""),
}
sys.stdout.write(json.dumps(result) + "\n")

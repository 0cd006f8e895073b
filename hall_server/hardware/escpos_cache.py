"""python-escpos's printer profiles, loaded in milliseconds instead of half a second.

On import, `escpos.capabilities` reads its bundled capabilities.json with PyYAML's pure-Python loader
(0.5 s of CPU, holding the GIL) and pickles the result into a fresh `mkdtemp()` directory — a new one in
every process, so every start paid the full parse and left a temporary directory behind. Its
`ESCPOS_CAPABILITIES_PICKLE_DIR` names a directory to keep the pickle in; here it is the hall's own
cache directory, and the pickle is written with the C JSON parser (the file is JSON, which the YAML
loader reads to the same objects) so that even the first start of a hall does not pay the YAML parse.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import pickle
import platform
from pathlib import Path

log = logging.getLogger(__name__)
ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def prepare(cache_dir: Path) -> None:
    """Point python-escpos at `cache_dir` for its profiles' pickle, writing it if missing or stale.

    Call before python-escpos is first imported; does nothing when the environment already names a
    directory (a technician's choice) or python-escpos is not installed. Never raises: at worst the
    library parses its profiles itself, as before."""
    if ENV in os.environ:
        return
    try:
        spec = importlib.util.find_spec("escpos")
        if spec is None or not spec.submodule_search_locations:
            return
        source = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
        if "ESCPOS_CAPABILITIES_FILE" in os.environ:
            source = Path(os.environ["ESCPOS_CAPABILITIES_FILE"])
        cache_dir.mkdir(parents=True, exist_ok=True)
        # the name and the staleness rule are escpos.capabilities' own
        target = cache_dir / f"{platform.python_version()}.capabilities.pickle"
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            profiles = json.loads(source.read_text(encoding="utf-8"))
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(profiles, protocol=2))
            os.replace(tmp, target)
    except (OSError, ValueError, ImportError) as exc:
        log.debug("printer profiles cache not prepared: %s", exc)
        return
    os.environ[ENV] = str(cache_dir)

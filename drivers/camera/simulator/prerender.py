"""Render, ahead of time, the simulated camera videos that hall configurations name (`make setup` runs it).

    python -m drivers.camera.simulator.prerender config/*.toml [--jobs N]

Reads each file's [[devices]] of kind "camera" whose url is sim://camera…, renders every video not yet in the
cache (deduplicated: eleven cameras over two seeds are two videos), one process per video, side by side. Prints
nothing when every video is already there. Exit status: 0 all rendered or cached, 1 a URL or a render failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed


def camera_urls(paths: list[str]) -> list[str]:
    """The sim://camera URLs of the configurations' camera devices, in order, each once."""
    urls: dict[str, None] = {}
    for path in paths:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        for device in doc.get("devices", []):
            url = str(device.get("url", ""))
            if device.get("kind") == "camera" and url.startswith("sim://camera"):
                urls.setdefault(url)
    return list(urls)


def _render(url: str) -> float:
    from ..sim_camera import sim_from_url
    started = time.monotonic()
    sim_from_url(url).simulator.render()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="prerender", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", help="hall configuration files (TOML)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="videos rendered at once (the cores)")
    args = ap.parse_args(argv)
    from ...url import DeviceURLError
    from ..sim_camera import sim_from_url
    try:
        urls = camera_urls(args.configs)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"prerender: cannot read the configuration: {exc}", file=sys.stderr)
        return 1
    failed, todo = 0, {}
    for url in urls:
        try:
            video = sim_from_url(url).simulator.video
        except DeviceURLError as exc:
            print(f"prerender: {exc}", file=sys.stderr)
            failed += 1
            continue
        if not video.is_file():
            todo.setdefault(video, url)
    if not todo:
        return 1 if failed else 0
    folder = next(iter(todo)).parent
    print(f"rendering {len(todo)} simulated camera video{'s' if len(todo) > 1 else ''} into {folder} "
          "(once: later opens find them there)", flush=True)
    with ProcessPoolExecutor(max(1, min(args.jobs, len(todo)))) as pool:
        jobs = {pool.submit(_render, url): video for video, url in todo.items()}
        for job in as_completed(jobs):
            try:
                print(f"  {jobs[job].name}: {job.result():.1f} s", flush=True)
            except Exception as exc:
                print(f"prerender: {jobs[job].name} was not rendered: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

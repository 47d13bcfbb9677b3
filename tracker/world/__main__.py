"""Run the local news world in the foreground: ``python -m tracker.world --port N``."""

from __future__ import annotations

import argparse
import logging
import threading

from tracker.world.server import NewsWorld


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tracker.world", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument("--day", type=int, default=None, help="show the world as of this day")
    parser.add_argument("--generated", type=int, default=0, help="number of /gen/ articles")
    parser.add_argument("--client-id", default="test-id", help="accepted X-Naver-Client-Id")
    parser.add_argument("--client-secret", default="test-secret", help="accepted secret")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    world = NewsWorld(
        day=args.day,
        generated=args.generated,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
    ).start()
    print(f"news world on {world.base_url} (day={args.day or 'all'}, generated={args.generated})")  # noqa: T201
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        world.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

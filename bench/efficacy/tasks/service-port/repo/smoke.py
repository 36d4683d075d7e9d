"""Smoke test: start the API, call /health the way the front end does, record the result."""

import configparser
import json
import sys
import threading
import urllib.request
from pathlib import Path

from app.server import make_server


def load_env() -> dict[str, str]:
    env = {}
    for line in Path(".env").read_text().splitlines():
        name, _, value = line.partition("=")
        env[name.strip()] = value.strip()
    return env


def main() -> int:
    env = load_env()
    print(f"smoke: loaded .env (ORDERS_API_TOKEN={env.get('ORDERS_API_TOKEN', '')})")
    client = configparser.ConfigParser()
    client.read("config/client.ini")
    base = client["api"]["base_url"]
    server = make_server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"smoke: API listening on 127.0.0.1:{server.server_address[1]}")
    result = Path(".results/smoke.txt")
    result.unlink(missing_ok=True)
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"{base}/health", timeout=2) as answer:
            body = json.load(answer)
    except OSError as exc:
        print(f"smoke: GET {base}/health failed: {exc}", file=sys.stderr)
        return 1
    finally:
        server.shutdown()
    if body.get("status") != "ok":
        print(f"smoke: unexpected health answer {body}", file=sys.stderr)
        return 1
    result.parent.mkdir(exist_ok=True)
    result.write_text(f"health ok via {base.removeprefix('http://')}\n")
    print("smoke: health ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m modelarts_emulator [--host H] [--port P] [--seed FILE] ...``

Prints the base URL and the ``AIRFLOW_CONN_MODELARTS_DEFAULT`` value to use once the server is ready (its
``console_url`` is the emulator's console, so extra links open it) and writes the URL to ``--url-file`` then,
for scripts that wait for it. ``--port 0`` picks a free port.
Stops on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from .app import create_app
from .config import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorConfig
from .console import CONSOLE_PATH
from .faults import FaultRule
from .seed import default_seed
from .state import EmulatorState
from .testing import connection_dict, install_log_filter, uvicorn_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modelarts_emulator",
        description="Local emulator of the Huawei Cloud ModelArts data-labeling API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one; default 8080)")
    parser.add_argument("--seed", type=Path, help="seed JSON file (default: the built-in demo seed)")
    parser.add_argument("--empty", action="store_true", help="start with no datasets at all")
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help="AK the emulator accepts")
    parser.add_argument("--secret-key", default=None, help="SK for --access-key (env MODELARTS_EMULATOR_SK)")
    parser.add_argument("--no-auth", action="store_true", help="accept requests without credentials")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added latency on every API request")
    parser.add_argument(
        "--latency-jitter",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="spread the added latency as networks do: each request's latency times a lognormal factor "
        "of this sigma, median 1 (e.g. 0.3; default 0, none)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of API requests answered 429 (Retry-After 1) or 503, half each (default 0); "
        "no request is faulted more than twice, so a client with 3+ attempts always gets through",
    )
    parser.add_argument("--reviewer-pass-rate", type=float, default=0.9, help="chance a check passes")
    parser.add_argument("--reviewer-pace", type=int, default=5, help="samples the reviewers check per step")
    parser.add_argument(
        "--step-seconds", type=float, default=1.0, help="wall-clock seconds per simulated step (default 1)"
    )
    parser.add_argument("--token-ttl", type=float, default=24 * 3600.0, help="IAM token lifetime (s)")
    parser.add_argument("--random-seed", type=int, default=0, help="seed for reviewers and faults")
    parser.add_argument(
        "--obs-endpoint",
        help="URL of the S3-compatible server the import tasks read obs:// and s3:// paths from (OBS in "
        "production; e.g. moto's server locally); without it every import is refused with ModelArts.4314",
    )
    parser.add_argument("--obs-access-key", default="testing", help="access key for --obs-endpoint")
    parser.add_argument(
        "--obs-secret-key", default=None, help="secret key for --obs-endpoint (env MODELARTS_EMULATOR_OBS_SK)"
    )
    parser.add_argument("--obs-region", default="us-east-1", help="region of --obs-endpoint")
    parser.add_argument("--url-file", type=Path, help="write the base URL here once the server is ready")
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
    parser.add_argument(
        "--print-connection",
        action="store_true",
        help="print the Airflow connection (JSON) for --host/--port and the keys, then exit without serving: "
        'export AIRFLOW_CONN_MODELARTS_DEFAULT="$(python -m modelarts_emulator --port 9090 '
        '--print-connection)"',
    )
    return parser


def _config(args: argparse.Namespace) -> EmulatorConfig:
    secret = args.secret_key or os.environ.get("MODELARTS_EMULATOR_SK") or DEFAULT_SECRET_KEY
    config = EmulatorConfig(
        access_keys={args.access_key: secret},
        require_auth=not args.no_auth,
        reviewer_pass_rate=args.reviewer_pass_rate,
        reviewer_pace=args.reviewer_pace,
        step_seconds=args.step_seconds if args.step_seconds > 0 else None,
        token_ttl=args.token_ttl,
        random_seed=args.random_seed,
        latency_jitter_sigma=args.latency_jitter,
        obs_endpoint=args.obs_endpoint,
        obs_access_key=args.obs_access_key,
        obs_secret_key=args.obs_secret_key or os.environ.get("MODELARTS_EMULATOR_OBS_SK") or "testing",
        obs_region=args.obs_region,
    )
    config.validate()
    return config


#: --fault-rate never faults one request more than this often (any client with more attempts gets through).
_CLI_MAX_FAULTS = 2


def _startup_faults(latency_ms: float, fault_rate: float) -> list[FaultRule]:
    rules = []
    if latency_ms > 0:
        rules.append(FaultRule(kind="latency", latency_ms=latency_ms))
    if fault_rate > 0:
        if not 0 < fault_rate <= 1:
            raise SystemExit("error: --fault-rate must be between 0 and 1")
        half = fault_rate / 2
        rules.append(
            FaultRule(kind="status", status=429, rate=half, retry_after=1.0, max_per_request=_CLI_MAX_FAULTS)
        )
        # The second rule is only consulted when the first did not fire, hence the conditional rate.
        rules.append(
            FaultRule(
                kind="status", status=503, rate=min(half / (1 - half), 1.0), max_per_request=_CLI_MAX_FAULTS
            )
        )
    return rules


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.print_connection:
        if args.port == 0:
            raise SystemExit("error: --print-connection needs the port the emulator will listen on, not 0")
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        secret_key = config.access_keys[args.access_key]
        url = f"http://{shown}:{args.port}"
        print(
            json.dumps(
                connection_dict(url, config.project_id, access_key=args.access_key, secret_key=secret_key)
            )
        )
        return 0
    if args.empty:
        seed = None
    elif args.seed is not None:
        try:
            seed = json.loads(args.seed.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: cannot read seed file {args.seed}: {exc}") from None
    else:
        seed = default_seed()
    state = EmulatorState(config, seed=seed, faults=_startup_faults(args.latency_ms, args.fault_rate))
    try:
        state.reset()
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    app = create_app(state)
    install_log_filter()
    secret = config.access_keys[args.access_key]

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise SystemExit(f"error: cannot listen on {args.host}:{args.port}: {exc}") from None
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn_config(
            app,
            args.host,
            port,
            access_log=args.access_log,
            log_level="info" if args.access_log else "warning",
        )
    )
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    base_url = f"http://{shown_host}:{port}"

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.01)
        connection = json.dumps(
            connection_dict(base_url, config.project_id, access_key=args.access_key, secret_key=secret)
        )
        # The URL file first: whoever waits for the printed lines may read the file at once.
        if args.url_file is not None:
            tmp = args.url_file.with_name(args.url_file.name + ".tmp")
            tmp.write_text(base_url + "\n")
            tmp.replace(args.url_file)
        print(f"ModelArts emulator listening on {base_url} (IAM endpoint: {base_url})", flush=True)
        print(f"AIRFLOW_CONN_MODELARTS_DEFAULT='{connection}'", flush=True)
        print(f"Admin API: {base_url}/_emulator/  OpenAPI docs: {base_url}/docs", flush=True)
        print(f"Console (what the extra links open): {base_url}{CONSOLE_PATH}/", flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `urbangrid` command: demo, serve, worker, and every Django management command."""

from __future__ import annotations

import argparse
import os
import sys

#: Management commands that never sign anything nor serve requests: without SECRET_KEY they run
#: with a throw-away random key (so that `urbangrid makemigrations --check` works in a checkout).
KEYLESS_COMMANDS = frozenset(
    {"help", "version", "makemigrations", "makemessages", "compilemessages", "collectstatic", "showmigrations"}
)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # e.g. no SECRET_KEY: say which variable to set, no traceback
        print(f"urbangrid: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from urbangrid.wsgi import application

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            # API keys and tokens in query strings are redacted from the access log
            self.cfg.set("logger_class", "urbangrid.core.redact.RedactingGunicornLogger")
            self.cfg.set("timeout", 120)

        def load(self):
            return application

    _App().run()


def _ensure_data_dir() -> None:
    from django.conf import settings

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)


#: `urbangrid demo` builds this many of the year's most recent days before it serves; the older
#: days follow in a background process (see README, Quick start)
DEMO_RECENT_DAYS = 30


def demo(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="urbangrid demo", description="Run the demo city on the embedded database.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-serve", action="store_true", help="prepare the database and print logins, then exit")
    parser.add_argument("--live", action="store_true", help="keep the city moving: new reports, people at work")
    parser.add_argument("--minutes", type=float, default=None, help="--live: stop moving after this many minutes")
    parser.add_argument("--seed", type=int, default=None, help="seed of the demo city and of --live")
    parser.add_argument("--year-cases", type=int, default=None, help="reports in the demo year (default 25,000)")
    parser.add_argument(
        "--recent-days",
        type=int,
        default=DEMO_RECENT_DAYS,
        help=f"days of the year built before serving (default {DEMO_RECENT_DAYS}); the rest in the background",
    )
    args = parser.parse_args(argv)
    # The demo opts in to the public demo key when no SECRET_KEY is set (see settings.py).
    os.environ.setdefault("URBANGRID_DEMO", "1")
    _setup()
    _ensure_data_dir()
    from django.core.management import call_command

    from urbangrid.demo.builder import DEMO_SEED, print_logins, year_to_finish

    call_command("migrate", interactive=False, verbosity=0)
    options = {"if_empty": True, "seed": DEMO_SEED if args.seed is None else args.seed}
    if args.year_cases is not None:
        options["year_cases"] = args.year_cases
    if args.recent_days and args.recent_days < 365 and not args.no_serve:
        options["recent_days"] = args.recent_days
    call_command("load_demo", **options)
    call_command("collectstatic", interactive=False, verbosity=0)
    children = []
    if year_to_finish() is not None:
        if args.no_serve:
            print("Building the older days of the demo year…", flush=True)
            call_command("demo_year")
        else:
            print(
                "\nThe demo serves now with the most recent weeks of its year; the older months are being built\n"
                "in the background (one day after another, newest first; about 11 minutes of CPU).\n"
                "Statistics over the whole year are complete when it prints “demo year complete”.",
                flush=True,
            )
            children.append(_child(["demo_year", "--nice", "10"]))
    print_logins(f"http://{args.host}:{args.port}")
    if args.live:
        seed = ["--seed", str(args.seed)] if args.seed is not None else []
        minutes = ["--minutes", str(args.minutes)] if args.minutes else []
        if args.no_serve:
            call_command("live", *seed, *minutes)
        else:
            children.append(_child(["live", *seed, *minutes]))
    try:
        if not args.no_serve:
            _serve(args.host, args.port, args.workers)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()


def _child(command: list[str]):
    """Another `urbangrid` command next to the server, in this terminal (Ctrl-C stops it too)."""
    import subprocess

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "urbangrid.cli", *command], env=env)


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="urbangrid serve", description="Serve the web application.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    args = parser.parse_args(argv)
    _setup()
    _ensure_data_dir()
    _serve(args.host, args.port, args.workers)


def worker(argv: list[str]) -> None:
    """Run background tasks; unless --no-scheduler, also enqueue the deadline sweep every
    URBANGRID_SWEEP_SECONDS (default 60) seconds and the refresh of the dashboards' evaluation
    every URBANGRID_EVALUATION_REFRESH_SECONDS (default 300; 0: never)."""
    parser = argparse.ArgumentParser(prog="urbangrid worker", description="Run background tasks.")
    parser.add_argument("--no-scheduler", action="store_true", help="do not enqueue the periodic tasks")
    args, rest = parser.parse_known_args(argv)
    _setup()
    from django.core.management import call_command

    if not args.no_scheduler:
        import threading
        import time

        from django.db import close_old_connections

        from urbangrid.cases.tasks import enqueue_sweep_unless_pending
        from urbangrid.evaluation.tasks import enqueue_refresh_unless_pending

        every = int(os.environ.get("URBANGRID_SWEEP_SECONDS", "60"))
        refresh_every = int(os.environ.get("URBANGRID_EVALUATION_REFRESH_SECONDS", "300"))

        def schedule() -> None:
            refreshed = 0.0
            while True:
                try:
                    enqueue_sweep_unless_pending()
                    if refresh_every > 0 and time.monotonic() - refreshed >= refresh_every:
                        enqueue_refresh_unless_pending()
                        refreshed = time.monotonic()
                except Exception as exc:  # keep scheduling through transient database errors
                    print(f"scheduler: {exc}", file=sys.stderr)
                finally:
                    close_old_connections()
                time.sleep(min(every, refresh_every) if refresh_every > 0 else every)

        threading.Thread(target=schedule, name="scheduler", daemon=True).start()
    call_command("db_worker", *rest)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    handlers = {"demo": demo, "serve": serve, "worker": worker}
    if command in handlers:
        handlers[command](argv[1:])
        return
    if command in KEYLESS_COMMANDS or command.startswith("-"):
        import secrets

        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    _setup()
    from django.core.management import execute_from_command_line

    if command == "help" and len(argv) <= 1:
        print("urbangrid demo | serve | worker | <any Django management command>\n")
    execute_from_command_line(["urbangrid", *argv])


if __name__ == "__main__":
    main()

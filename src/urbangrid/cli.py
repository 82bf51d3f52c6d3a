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


def demo(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="urbangrid demo", description="Run the demo city on the embedded database.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-serve", action="store_true", help="prepare the database and print logins, then exit")
    args = parser.parse_args(argv)
    # The demo opts in to the public demo key when no SECRET_KEY is set (see settings.py).
    os.environ.setdefault("URBANGRID_DEMO", "1")
    _setup()
    _ensure_data_dir()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo", if_empty=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    from urbangrid.demo.builder import print_logins

    print_logins(f"http://{args.host}:{args.port}")
    if not args.no_serve:
        _serve(args.host, args.port, args.workers)


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
    URBANGRID_SWEEP_SECONDS (default 60) seconds."""
    parser = argparse.ArgumentParser(prog="urbangrid worker", description="Run background tasks.")
    parser.add_argument("--no-scheduler", action="store_true", help="do not enqueue the periodic deadline sweep")
    args, rest = parser.parse_known_args(argv)
    _setup()
    from django.core.management import call_command

    if not args.no_scheduler:
        import threading
        import time

        from django.db import close_old_connections

        from urbangrid.cases.tasks import enqueue_sweep_unless_pending

        every = int(os.environ.get("URBANGRID_SWEEP_SECONDS", "60"))

        def schedule() -> None:
            while True:
                try:
                    enqueue_sweep_unless_pending()
                except Exception as exc:  # keep scheduling through transient database errors
                    print(f"scheduler: {exc}", file=sys.stderr)
                finally:
                    close_old_connections()
                time.sleep(every)

        threading.Thread(target=schedule, name="deadline-sweep", daemon=True).start()
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

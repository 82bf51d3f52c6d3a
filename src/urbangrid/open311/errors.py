"""The one exception Open311 code raises; views turn it into the spec's `errors` list."""

from __future__ import annotations


class Open311Error(Exception):
    """One or more errors; `status` is the HTTP status of the answer."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None):
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.headers = headers or {}

    @property
    def errors(self) -> list[tuple[int, str]]:
        return [(self.status, m) for m in self.messages]

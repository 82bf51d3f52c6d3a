"""Senders for tests: nothing leaves the process."""

from __future__ import annotations

from urbangrid.notify.senders import Message, Sender

SENT: list[Message] = []


class RecordingSender(Sender):
    def send(self, message: Message) -> None:
        SENT.append(message)


class FlakySender(Sender):
    """Fails the first `FAILURES` sends, then delivers."""

    FAILURES = 2
    calls = 0

    def send(self, message: Message) -> None:
        type(self).calls += 1
        if type(self).calls <= self.FAILURES:
            raise ConnectionError(f"gateway down ({type(self).calls})")
        SENT.append(message)


class BrokenSender(Sender):
    def send(self, message: Message) -> None:
        raise TimeoutError("no answer")


class PhoneOnlySender(Sender):
    def accepts(self, user) -> bool:
        return bool(user.phone)

    def send(self, message: Message) -> None:
        SENT.append(message)


class AcceptsBrokenSender(Sender):
    """Raises while deciding whom it reaches."""

    def accepts(self, user) -> bool:
        raise RuntimeError("directory down")

    def send(self, message: Message) -> None:
        SENT.append(message)

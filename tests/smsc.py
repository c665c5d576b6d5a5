"""A real SMSC on this machine for the SMS tests and the bench: smpp34's server on a free port."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import smpp34

from tests.live import free_port


class Smsc:
    """An SMSC on this machine that accepts every bind and keeps every submit_sm."""

    def __init__(self) -> None:
        self.port = free_port()
        self.submitted: list[dict[str, Any]] = []
        self.refuse = False
        ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True).start()
        assert ready.wait(10)

    async def _serve(self, ready: threading.Event) -> None:
        server = smpp34.Server(host="127.0.0.1", port=self.port, system_id="TestSMSC")
        await server.start()
        ready.set()
        while True:
            event = await server.next()
            if isinstance(event, smpp34.SubmitSmEvent):
                if self.refuse:
                    event.reject(smpp34.ESME_RMSGQFUL)  # type: ignore[attr-defined]
                    continue
                self.submitted.append({
                    "to": event.destination_addr, "source": event.source_addr,
                    "coding": event.data_coding, "esm_class": event.esm_class,
                    "body": bytes(event.short_message),
                })  # fmt: skip
                event.accept(message_id=f"m{len(self.submitted)}")

    def texts(self) -> list[str]:
        """The messages as the phone shows them: parts joined, UDH stripped."""
        joined: list[str] = []
        for pdu in self.submitted:
            body = pdu["body"][6:] if pdu["esm_class"] & 0x40 else pdu["body"]
            text = body.decode("utf-16-be") if pdu["coding"] == 8 else body.decode("ascii")
            if pdu["esm_class"] & 0x40 and pdu["body"][5] > 1:  # a later part of a message
                joined[-1] += text
            else:
                joined.append(text)
        return joined

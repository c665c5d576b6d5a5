"""SMS from HQ to a visitor who left a number on the ticket's page: near, and called.

HQ is the one server that can reach an operator. A visitor following a relayed ticket
(hq/phones.py) may leave a mobile number; when the center's word says three ahead, and when
it says called, one message each goes out through the operator's SMPP 3.4 account (smpplib)
or an HTTP gateway, behind one small interface. Texts are in the ticket's language with the
center's name; Azerbaijani and Russian go as UCS-2 (ə is not in GSM 03.38), at most two
segments. A message is claimed (committed) before it is submitted and never claimed again, so
a restart mid-send can lose one but never send one twice; a number is deleted with its ticket
at the center's first word of the next day, and blanked on its messages once they are sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from server.queue.errors import Invalid
from server.web.language import translate

MAX_SEGMENTS = 2

log = logging.getLogger(__name__)


def segments(text: str) -> int:
    """Return how many SMS segments ``text`` takes (GSM 03.38 if it fits, else UCS-2)."""
    parts, _, _ = smpplib.gsm.make_parts(text)
    return len(parts)


def compose(kind: str, language: str, center_name: str, **values: str) -> str:
    """Return the message of ``kind`` with its values, within MAX_SEGMENTS.

    Tickets: "near", "called" (``label``, ``counter``); bookings: "booked", "cancelled",
    "day_before", "soon" (``when``, ``code``). A long center name is shortened to fit; the
    ticket, the counter, the time and the code never are.
    """
    name = center_name
    while True:
        text = translate(language, f"sms.{kind}", center=name, **values)
        if segments(text) <= MAX_SEGMENTS or len(name) <= 8:
            return text
        name = name[: max(8, len(name) - 8)].rstrip() + "…"


class SmsSender(Protocol):
    """Sends texts to numbers; returns the operator's ids of the parts."""

    def send(self, to: str, text: str) -> list[str]:
        """Submit one message (its parts); raise on a refusal or a broken link."""
        ...


@dataclass(frozen=True)
class SmppSender:
    """An SMPP 3.4 transmitter: bind, submit each part, unbind, per batch."""

    host: str
    port: int
    system_id: str
    password: str
    source: str  # the sender's name (alphanumeric) or number

    def send(self, to: str, text: str) -> list[str]:
        """Submit ``text`` to ``to`` (parts joined by the phone through their UDH)."""
        # An SMSC may add optional parameters of its own: SMPP 3.4 says they are ignored.
        client = smpplib.client.Client(self.host, self.port, timeout=10,
                                       allow_unknown_opt_params=True)  # fmt: skip
        ids: list[str] = []
        client.set_message_sent_handler(lambda pdu: ids.append(str(pdu.message_id)))
        client.connect()
        try:
            client.bind_transmitter(system_id=self.system_id, password=self.password)
            parts, coding, esm_class = smpplib.gsm.make_parts(text)
            alphanumeric = not self.source.isdigit()
            for part in parts:
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM if alphanumeric
                    else smpplib.consts.SMPP_TON_INTL,
                    source_addr_npi=smpplib.consts.SMPP_NPI_UNK if alphanumeric
                    else smpplib.consts.SMPP_NPI_ISDN,
                    source_addr=self.source,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=to,
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=False,
                )  # fmt: skip
                client.read_once()  # its submit_sm_resp: a refusal raises here
            try:
                client.unbind()
            except smpplib.exceptions.ConnectionError:
                pass  # every part was acknowledged: an SMSC may close before its unbind_resp
        finally:
            client.disconnect()
        return ids


@dataclass(frozen=True)
class HttpGatewaySender:
    """An operator's HTTP gateway: POST {"to", "text", "from"} with a bearer token."""

    url: str
    token: str
    source: str

    def send(self, to: str, text: str) -> list[str]:
        """Post the message; the gateway splits it; its answer's ``id`` is kept."""
        message = {"to": to, "text": text, "from": self.source}
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = requests.post(self.url, json=message, headers=headers, timeout=10)
        answer.raise_for_status()
        body: Any = answer.json() if answer.content else {}
        return [str(body.get("id", ""))] if isinstance(body, dict) else []


def sender_from(config: Mapping[str, Any]) -> SmsSender | None:
    """Return the sender HQ's settings name: HQ_SMPP_URL, else HQ_SMS_HTTP_URL, else none."""
    source = str(config["HQ_SMS_SOURCE"])
    if config["HQ_SMPP_URL"]:
        parts = urlsplit(str(config["HQ_SMPP_URL"]))
        if parts.scheme != "smpp" or not parts.hostname:
            raise Invalid("bad_smpp_url", "HQ_SMPP_URL is smpp://SYSTEM_ID:PASSWORD@HOST:PORT.")
        source = parse_qs(parts.query).get("source", [source])[0]
        return SmppSender(parts.hostname, parts.port or 2775, unquote(parts.username or ""),
                          unquote(parts.password or ""), source)  # fmt: skip
    if config["HQ_SMS_HTTP_URL"]:
        return HttpGatewaySender(str(config["HQ_SMS_HTTP_URL"]), str(config["HQ_SMS_HTTP_TOKEN"]),
                                 source)  # fmt: skip
    return None

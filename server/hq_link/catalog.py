"""Asking HQ for a newer national catalog, on the sync cycle.

The question says which version the center runs and which it holds; HQ answers with the
newest version only if it is newer than both, so a center back from weeks offline gets the
latest in one step. The answer is signed with the center's key like a request (method
``ANSWER``): a catalog changes what every kiosk offers, so nothing on the way may forge it.
"""

from __future__ import annotations

import json

import requests

from server.hq_link.sync import HqLink, SyncRefused, check_answer, post_signed
from server.office import national_catalog
from server.queue.center import Center
from server.queue.errors import Invalid

PATH = "/hq/api/v1/catalog"


def fetch_catalog(
    center: Center, hq: HqLink, session: requests.Session, timeout: float = 30
) -> int | None:
    """Ask HQ for a newer version and hold it; return its number, or None if none is newer.

    Raises requests.RequestException while HQ is unreachable, SyncRefused when it refuses or
    its answer is not its own or not a catalog this center can run.
    """
    with center.store.read() as conn:
        question = {"center": hq.center, "at": center.now(), **national_catalog.ask(conn)}
    response = post_signed(center, hq, session, PATH, question, timeout)
    check_answer(hq, PATH, response, "catalog")
    try:
        offer = json.loads(response.content)
        if offer.get("version") is None:
            return None
        with center.transaction() as (conn, now):
            kept = national_catalog.hold(conn, offer, now)
    except (ValueError, AttributeError) as exc:
        raise SyncRefused(f"HQ's catalog answer is not JSON: {exc}") from exc
    except Invalid as exc:
        raise SyncRefused(exc.message) from exc
    return int(offer["version"]) if kept else None

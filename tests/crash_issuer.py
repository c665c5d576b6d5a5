"""A kiosk process for the crash test: issue tickets forever, acknowledging each after commit.

Usage: python -m tests.crash_issuer DB ACK_FILE SEED. The acknowledgement (one os.write of
"id label" to an O_APPEND file) stands for "printed / HTTP 201"; SIGKILL cannot undo it.
"""

import os
import random
import sys
from pathlib import Path

from server.queue.center import Center
from server.queue.storage import Store
from server.queue.visits import issue_ticket

SERVICES = ["2.1", "4.4", "6"]


def main() -> None:
    db, ack_path, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    center = Center(Store(db))
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(ack, b"")  # opened: the parent may start its kill timer meaningfully
    while True:
        ticket, _facts = issue_ticket(center, rng.choice(SERVICES), device=None)
        os.write(ack, f"{ticket['id']} {ticket['label']}\n".encode())


if __name__ == "__main__":
    main()

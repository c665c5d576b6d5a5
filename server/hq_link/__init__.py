"""The link to headquarters: signing requests, and the sender of each day's record.

``signing`` is the HMAC scheme both sides use; ``sync`` builds day records from the office's
reports and sends them, retrying while HQ is away. May import ``server.office`` and
``server.queue``; never ``server.live``, ``server.web`` or the screens.
"""

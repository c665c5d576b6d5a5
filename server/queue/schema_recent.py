"""The center's newest migrations: appointments, counter numbers, calibration, waits, breaks.

Kept apart so schema.py stays one sitting's read; schema.py orders them all.
"""

from __future__ import annotations

# Appointments booked at HQ: a checked-in ticket keeps its booking code and slot; the
# bookings the center heard of from HQ are kept, so a cancelled code is refused offline.
APPOINTMENTS_SCHEMA = """
        ALTER TABLE tickets ADD COLUMN slot_at REAL;
        ALTER TABLE tickets ADD COLUMN booking_code TEXT;
        CREATE UNIQUE INDEX tickets_booking ON tickets (booking_code)
            WHERE booking_code IS NOT NULL;
        -- The appointments' own line per service, in slot order (server/queue/calls.py).
        CREATE INDEX tickets_booked ON tickets (day, state, service_id, slot_at, id)
            WHERE slot_at IS NOT NULL;
        CREATE TABLE bookings (
            code TEXT PRIMARY KEY,  -- 20 characters, no dashes (server/queue/booking_codes.py)
            service_id INTEGER NOT NULL,
            slot_at REAL NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('booked', 'cancelled')),  -- as HQ last said
            heard_at REAL NOT NULL
        );
        CREATE INDEX bookings_slot ON bookings (slot_at);
"""

# The number a counter is announced by ("iki nömrəli masaya"), set by the admin: read from its
# name, "Zal 2 · Masa 6" was called to counter 2. NULL: the last number in the name.
COUNTER_NUMBER = """
        ALTER TABLE counters ADD COLUMN number INTEGER
            CHECK (number IS NULL OR number BETWEEN 1 AND 999);
"""

# Text mode only where the calibration ticket showed it right (hardware/calibration.py); a
# printer already printing text keeps its own profile's numbering: it printed so yesterday.
CALIBRATED_TEXT = """
        ALTER TABLE devices ADD COLUMN text_pages TEXT;
        UPDATE devices SET text_pages = printer_profile WHERE print_mode = 'text';
"""

# The wait each visitor was told at issue, for the report of how often the promise held;
# written in the issuing transaction, after the insert that already marked the day for HQ.
TOLD_WAIT = """
        ALTER TABLE tickets ADD COLUMN told_wait_min INTEGER;
        DROP TRIGGER hq_outbox_on_update;
        CREATE TRIGGER hq_outbox_on_update AFTER UPDATE ON tickets
        WHEN OLD.told_wait_min IS NOT NULL OR NEW.told_wait_min IS NULL BEGIN
            INSERT INTO hq_outbox (day, revision, changed_at)
            VALUES (NEW.day, 1, (julianday('now') - 2440587.5) * 86400.0)
            ON CONFLICT (day) DO UPDATE SET
                revision = revision + 1, changed_at = excluded.changed_at;
        END;
"""

# A break says how long it lasts (the counter page asks): the wait told counts the desk back
# then, and the floor says who is due back when. NULL: not said (15 minutes are assumed).
BREAK_UNTIL = """
        ALTER TABLE counters ADD COLUMN break_until REAL;
"""

# A mobile number a visitor typed at the kiosk for an SMS (near, called), kept only until the
# relay hands it to HQ, which sends it (server/hq_link/phones.py); a past day's goes anyway.
SMS_NUMBERS = """
        CREATE TABLE sms_numbers (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            phone TEXT NOT NULL,
            made_at REAL NOT NULL
        );
"""

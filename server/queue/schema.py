"""The center's tables: each change to them one migration, applied in order and once.

server/queue/storage.py opens the database and applies them; HQ reuses the tables of staff
and of the audit log (hq/schema.py).
"""

from __future__ import annotations

from server.queue.schema_recent import (
    APPOINTMENTS_SCHEMA,
    BREAK_UNTIL,
    CALIBRATED_TEXT,
    COUNTER_NUMBER,
    SMS_NUMBERS,
    TOLD_WAIT,
)

CATALOG_SCHEMA = """
        CREATE TABLE areas (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            letter TEXT NOT NULL UNIQUE,
            name_az TEXT NOT NULL, name_ru TEXT, name_en TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE services (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            area_id INTEGER NOT NULL REFERENCES areas(id),
            name_az TEXT NOT NULL, name_ru TEXT, name_en TEXT,
            documents_az TEXT, documents_ru TEXT, documents_en TEXT,
            target_minutes INTEGER NOT NULL,
            position INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE priority_categories (
            code TEXT PRIMARY KEY,
            name_az TEXT NOT NULL, name_ru TEXT, name_en TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

USERS_TABLE = """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('clerk', 'manager', 'admin')),
            active INTEGER NOT NULL DEFAULT 1,
            session_version INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL
        );
"""
# Append-only: never updated, never deleted.
AUDIT_LOG_TABLE = """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            user_id INTEGER, device_id INTEGER,
            action TEXT NOT NULL,
            detail TEXT,
            remote_addr TEXT
        );
"""

PEOPLE_AND_DEVICES_SCHEMA = (
    USERS_TABLE
    + """
        CREATE TABLE devices (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('kiosk', 'display')),
            zone TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            prints INTEGER NOT NULL DEFAULT 1,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            last_seen_at REAL
        );
        CREATE TABLE counters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            zone TEXT NOT NULL DEFAULT 'main',
            status TEXT NOT NULL DEFAULT 'closed' CHECK (status IN ('closed', 'open', 'break')),
            status_reason TEXT,
            clerk_user_id INTEGER REFERENCES users(id),
            priority_streak INTEGER NOT NULL DEFAULT 0,
            categories TEXT  -- JSON list of category codes; NULL serves everyone
        );
        CREATE TABLE counter_services (
            counter_id INTEGER NOT NULL REFERENCES counters(id),
            service_id INTEGER NOT NULL REFERENCES services(id),
            weight REAL NOT NULL DEFAULT 1 CHECK (weight > 0),
            PRIMARY KEY (counter_id, service_id)
        );
"""
    + AUDIT_LOG_TABLE
)

TICKETS_SCHEMA = """
        CREATE TABLE day_sequences (
            day TEXT NOT NULL, letter TEXT NOT NULL, last INTEGER NOT NULL,
            PRIMARY KEY (day, letter)
        );
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            day TEXT NOT NULL,
            letter TEXT NOT NULL,
            number INTEGER NOT NULL,
            label TEXT NOT NULL,
            service_id INTEGER NOT NULL REFERENCES services(id),
            category TEXT NOT NULL DEFAULT 'general',
            device_id INTEGER REFERENCES devices(id),
            state TEXT NOT NULL,
            print_status TEXT NOT NULL
                CHECK (print_status IN ('pending', 'printed', 'failed', 'none')),
            arrived_at REAL NOT NULL,
            queued_at REAL NOT NULL,
            called_at REAL, started_at REAL, finished_at REAL,
            counter_id INTEGER REFERENCES counters(id),
            target_counter_id INTEGER REFERENCES counters(id),
            clerk_user_id INTEGER REFERENCES users(id),
            recalls INTEGER NOT NULL DEFAULT 0,
            outcome TEXT,
            UNIQUE (day, letter, number)
        );
        -- One queue line per (service, category, target counter), in arrival order: the
        -- head of each line is one index probe, and the waiting counts read the index only.
        CREATE INDEX tickets_line ON tickets
            (day, state, service_id, category, target_counter_id, arrived_at, id);
        CREATE INDEX tickets_counter ON tickets (counter_id, state);
        -- Backstop for the engine's rule: a counter holds at most one called or serving visit.
        CREATE UNIQUE INDEX one_active_visit_per_counter ON tickets (counter_id)
            WHERE state IN ('called', 'serving');
        CREATE TABLE ticket_events (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            at REAL NOT NULL,
            action TEXT NOT NULL,
            state TEXT NOT NULL,
            service_id INTEGER, counter_id INTEGER, user_id INTEGER, device_id INTEGER,
            detail TEXT
        );
        CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id);
        CREATE INDEX ticket_events_action ON ticket_events (action, id);
        CREATE TABLE delivered_services (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            service_id INTEGER NOT NULL REFERENCES services(id),
            PRIMARY KEY (ticket_id, service_id)
        );
        CREATE TABLE idempotent_requests (
            key TEXT PRIMARY KEY,
            at REAL NOT NULL,
            response TEXT NOT NULL
        );
"""

PRINTERS_SCHEMA = """
        ALTER TABLE devices ADD COLUMN printer TEXT;  -- URL; NULL: the device prints itself
        ALTER TABLE devices ADD COLUMN print_mode TEXT NOT NULL DEFAULT 'text'
            CHECK (print_mode IN ('text', 'raster'));
        CREATE TABLE printer_status (
            device_id INTEGER PRIMARY KEY REFERENCES devices(id),
            state TEXT NOT NULL,
            message TEXT NOT NULL,
            at REAL NOT NULL
        );
"""

WALK_IN_SCHEMA = """
        -- A visitor served at the desk without a ticket: in every report, never in the queue.
        ALTER TABLE tickets ADD COLUMN walk_in INTEGER NOT NULL DEFAULT 0;
"""

REPORTING_SCHEMA = """
        -- Reports measure the wait to the first call and count transfers; the later calls of a
        -- transferred visit overwrite called_at, so the first one is kept apart.
        ALTER TABLE tickets ADD COLUMN first_called_at REAL;
        ALTER TABLE tickets ADD COLUMN transfers INTEGER NOT NULL DEFAULT 0;
        UPDATE tickets SET
            first_called_at = (SELECT min(at) FROM ticket_events e
                               WHERE e.ticket_id = tickets.id AND e.action = 'call'),
            transfers = (SELECT count(*) FROM ticket_events e
                         WHERE e.ticket_id = tickets.id AND e.action = 'transfer');
        UPDATE tickets SET first_called_at = called_at WHERE walk_in = 1;
        -- A kiosk's call for help stays on the manager's floor view until someone answers it.
        CREATE TABLE assistance_requests (
            id INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL REFERENCES devices(id),
            at REAL NOT NULL,
            resolved_at REAL,
            resolved_by INTEGER REFERENCES users(id)
        );
"""

# The printer model of a kiosk's printer (python-escpos' profile names): its code page slots,
# paper width and QR support decide every ticket's bytes. Existing printers keep the model
# every ticket was built for so far.
PRINTER_PROFILE_SCHEMA = """
        ALTER TABLE devices ADD COLUMN printer_profile TEXT NOT NULL DEFAULT 'TM-T20II';
"""

# Words visitors search by (synonyms, abbreviations: "təqaüd", "пенсия"), per language.
CATALOG_KEYWORDS_SCHEMA = """
        ALTER TABLE areas ADD COLUMN keywords_az TEXT;
        ALTER TABLE areas ADD COLUMN keywords_ru TEXT;
        ALTER TABLE areas ADD COLUMN keywords_en TEXT;
        ALTER TABLE services ADD COLUMN keywords_az TEXT;
        ALTER TABLE services ADD COLUMN keywords_ru TEXT;
        ALTER TABLE services ADD COLUMN keywords_en TEXT;
"""

HQ_OUTBOX_SCHEMA = """
        -- What headquarters must receive: each day whose visits changed since HQ last had it.
        -- Triggers mark the day in the same transaction as the change, whatever code made it.
        CREATE TABLE hq_outbox (
            day TEXT PRIMARY KEY,
            revision INTEGER NOT NULL,
            changed_at REAL NOT NULL,
            sent_revision INTEGER NOT NULL DEFAULT 0,
            sent_at REAL,
            closed INTEGER NOT NULL DEFAULT 0  -- 1 once the day was marked again after it ended
        );
        CREATE INDEX hq_outbox_pending ON hq_outbox (day) WHERE revision > sent_revision;
        CREATE TRIGGER hq_outbox_on_insert AFTER INSERT ON tickets BEGIN
            INSERT INTO hq_outbox (day, revision, changed_at)
            VALUES (NEW.day, 1, (julianday('now') - 2440587.5) * 86400.0)
            ON CONFLICT (day) DO UPDATE SET
                revision = revision + 1, changed_at = excluded.changed_at;
        END;
        CREATE TRIGGER hq_outbox_on_update AFTER UPDATE ON tickets BEGIN
            INSERT INTO hq_outbox (day, revision, changed_at)
            VALUES (NEW.day, 1, (julianday('now') - 2440587.5) * 86400.0)
            ON CONFLICT (day) DO UPDATE SET
                revision = revision + 1, changed_at = excluded.changed_at;
        END;
        INSERT INTO hq_outbox (day, revision, changed_at)
            SELECT DISTINCT day, 1, (julianday('now') - 2440587.5) * 86400.0 FROM tickets;
"""

# The days that still have open visits, for closing: an index of the open visits only, so the
# question costs the same after a year of history as on the first day.
OPEN_VISITS_INDEX = """
        CREATE INDEX tickets_open ON tickets (day)
            WHERE state IN ('issued', 'waiting', 'called', 'serving', 'on_hold');
"""

# Since when a counter is open, on a break or closed: the floor tells a counter just opened
# from one that has been idle while visitors wait.
COUNTER_STATUS_SINCE = """
        ALTER TABLE counters ADD COLUMN status_since REAL;
"""

# Volunteers at the entrance issue tickets for visitors (a role of their own), and each member
# of staff reads the staff pages in their own language. SQLite cannot widen a CHECK in place:
# the table is rebuilt (migrate runs with foreign keys off and checks them before committing).
USERS_WITH_LANGUAGE = """
        CREATE TABLE users_new (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('clerk', 'manager', 'admin', 'volunteer')),
            active INTEGER NOT NULL DEFAULT 1,
            session_version INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            language TEXT NOT NULL DEFAULT 'az' CHECK (language IN ('az', 'ru', 'en'))
        );
        INSERT INTO users_new (id, username, display_name, password_hash, role, active,
                               session_version, created_at)
            SELECT id, username, display_name, password_hash, role, active,
                   session_version, created_at FROM users;
        DROP TABLE users;
        ALTER TABLE users_new RENAME TO users;
"""

# The visitor's language, chosen at the kiosk (or by the volunteer): the phone page speaks it.
TICKET_LANGUAGE = """
        ALTER TABLE tickets ADD COLUMN language TEXT NOT NULL DEFAULT 'az'
            CHECK (language IN ('az', 'ru', 'en'));
"""

# A visitor's rating of a done visit (server.queue.feedback): one per visit, no personal data.
# A rating given or changed marks its day for headquarters, like a change of the visit. And
# visits cancelled from the phone before now get the outcome such a cancel now records.
FEEDBACK_SCHEMA = """
        CREATE TABLE feedback (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            day TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            reasons TEXT NOT NULL DEFAULT '',  -- reason codes, comma-separated
            comment TEXT CHECK (length(comment) <= 300),
            given_at REAL NOT NULL,
            changed_at REAL NOT NULL
        );
        CREATE INDEX feedback_day ON feedback (day);
        CREATE TRIGGER hq_outbox_on_feedback_insert AFTER INSERT ON feedback BEGIN
            INSERT INTO hq_outbox (day, revision, changed_at)
            VALUES (NEW.day, 1, (julianday('now') - 2440587.5) * 86400.0)
            ON CONFLICT (day) DO UPDATE SET
                revision = revision + 1, changed_at = excluded.changed_at;
        END;
        CREATE TRIGGER hq_outbox_on_feedback_update AFTER UPDATE ON feedback BEGIN
            INSERT INTO hq_outbox (day, revision, changed_at)
            VALUES (NEW.day, 1, (julianday('now') - 2440587.5) * 86400.0)
            ON CONFLICT (day) DO UPDATE SET
                revision = revision + 1, changed_at = excluded.changed_at;
        END;
        -- Visits their visitor cancelled from the phone say so in their outcome, for reports.
        UPDATE tickets SET outcome = 'cancelled_by_visitor'
            WHERE state = 'cancelled' AND id IN (
                SELECT ticket_id FROM ticket_events
                WHERE action = 'cancel' AND json_extract(detail, '$.reason') = 'visitor');
"""

# A feedback tablet on a counter's desk asks each visitor the clerk finished with: a device
# kind of its own, bound to its counter. SQLite cannot widen a CHECK in place: rebuilt.
FEEDBACK_TABLETS = """
        CREATE TABLE devices_new (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('kiosk', 'display', 'feedback')),
            zone TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            prints INTEGER NOT NULL DEFAULT 1,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            last_seen_at REAL,
            printer TEXT,
            print_mode TEXT NOT NULL DEFAULT 'text' CHECK (print_mode IN ('text', 'raster')),
            printer_profile TEXT NOT NULL DEFAULT 'TM-T20II',
            counter_id INTEGER REFERENCES counters(id),
            CHECK ((kind = 'feedback') = (counter_id IS NOT NULL))
        );
        INSERT INTO devices_new (id, name, kind, zone, token_hash, prints, active, created_at,
                                 last_seen_at, printer, print_mode, printer_profile)
            SELECT id, name, kind, zone, token_hash, prints, active, created_at,
                   last_seen_at, printer, print_mode, printer_profile FROM devices;
        DROP TABLE devices;
        ALTER TABLE devices_new RENAME TO devices;
"""

# Applied in order, each once; the number of those applied is PRAGMA user_version.
# Each is plain SQL so it runs in one transaction with the version bump.
MIGRATIONS: tuple[str, ...] = (
    CATALOG_SCHEMA,
    PEOPLE_AND_DEVICES_SCHEMA,
    TICKETS_SCHEMA,
    PRINTERS_SCHEMA,
    WALK_IN_SCHEMA,
    REPORTING_SCHEMA,
    HQ_OUTBOX_SCHEMA,
    PRINTER_PROFILE_SCHEMA,
    CATALOG_KEYWORDS_SCHEMA,
    OPEN_VISITS_INDEX,
    COUNTER_STATUS_SINCE,
    USERS_WITH_LANGUAGE,
    TICKET_LANGUAGE,
    FEEDBACK_SCHEMA,
    FEEDBACK_TABLETS,
    APPOINTMENTS_SCHEMA,
    COUNTER_NUMBER,
    CALIBRATED_TEXT,
    TOLD_WAIT,
    BREAK_UNTIL,
    SMS_NUMBERS,
)

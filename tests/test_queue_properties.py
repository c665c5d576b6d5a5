"""Queue invariants under random sequences of every clerk and kiosk action (hypothesis).

The real operations run on a real SQLite file; a plain-Python model says what must be true:
every ticket is in exactly one place, a counter holds at most one called/serving visit, calls
are first-come-first-served within a service and category, and the priority streak never
exceeds the fairness limit while general visitors wait.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.queue import calls, desk, ticket_views, visits
from server.queue.actors import User
from server.queue.calls import counter_policy
from server.queue.center import Center
from server.queue.engine import GENERAL, State, WaitingTicket, choose_next
from server.queue.errors import QueueError
from server.queue.storage import Store
from tests.conftest import FakeClock, seed

SERVICES = ["2.1", "2.2", "4.4", "6"]
CATEGORIES = [GENERAL, GENERAL, "disability", "elderly"]
TEMPLATE = Path(tempfile.mkdtemp(prefix="dostq-template-")) / "dostq.db"


def _template() -> Path:
    if not TEMPLATE.exists():
        store = Store(TEMPLATE)
        seed(store)
        store.close()
    return TEMPLATE


class QueueMachine(RuleBasedStateMachine):
    @initialize()
    def open_center(self):
        self.dir = Path(tempfile.mkdtemp(prefix="dostq-prop-"))
        shutil.copy(_template(), self.dir / "dostq.db")
        self.clock = FakeClock()
        self.center = Center(Store(self.dir / "dostq.db"), clock=self.clock)
        with self.center.store.read() as conn:
            self.counter_ids = [r[0] for r in conn.execute("SELECT id FROM counters ORDER BY id")]
            user_ids = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")]
            self.policies = {
                c: counter_policy(
                    conn, conn.execute("SELECT * FROM counters WHERE id = ?", (c,)).fetchone()
                )
                for c in self.counter_ids
            }
            self.fairness = self.center.fairness(conn)
        self.users = {
            c: User(u, f"u{u}", f"u{u}", "clerk", 1)
            for c, u in zip(self.counter_ids, user_ids, strict=True)
        }
        for counter_id, user in self.users.items():
            desk.sign_in(self.center, counter_id, user)
        self.waiting: dict[int, WaitingTicket] = {}
        self.state: dict[int, State] = {}
        self.active: dict[int, int] = {}  # counter -> ticket called or being served
        self.held: dict[int, int] = {}  # ticket on hold -> counter
        self.streak = dict.fromkeys(self.counter_ids, 0)
        self.issued = 0

    def teardown(self):
        if hasattr(self, "center"):
            self.center.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    @rule(
        service=st.sampled_from(SERVICES),
        category=st.sampled_from(CATEGORIES),
        wait=st.integers(0, 900),
    )
    def issue(self, service, category, wait):
        self.clock.advance(wait)
        ticket, _facts = visits.issue_ticket(self.center, service, device=None, category=category)
        with self.center.store.read() as conn:
            service_id = conn.execute(
                "SELECT id FROM services WHERE code = ?", (service,)
            ).fetchone()[0]
        self.waiting[ticket["id"]] = WaitingTicket(
            ticket["id"], service_id, category, ticket["arrived_at"]
        )
        self.state[ticket["id"]] = State.WAITING
        self.issued += 1

    @rule(index=st.integers(0, 2))
    def call_next(self, index):
        counter_id = self.counter_ids[index]
        policy = self.policies[counter_id]
        now = self.clock()
        expected = None
        if counter_id not in self.active:
            expected = choose_next(
                self.waiting.values(), policy, self.fairness, self.streak[counter_id], now
            )
        try:
            call, _facts = calls.call_next(self.center, counter_id, self.users[counter_id])
        except QueueError as error:
            assert expected is None, f"refused ({error.code}) though {expected} was callable"
            return
        called_id = call["ticket"]["id"]
        assert expected is not None and called_id == expected.id
        chosen = self.waiting.pop(called_id)
        eligible = [t for t in self.waiting.values() if policy.serves(t)]
        # First come, first served within the service and category.
        assert not [
            t
            for t in eligible
            if (t.service_id, t.category) == (chosen.service_id, chosen.category)
            and (t.arrived_at, t.id) < (chosen.arrived_at, chosen.id)
        ]
        # Fairness: a priority call beyond the streak limit only if nobody general waits
        # (or the called visitor was overdue).
        overdue = now - chosen.arrived_at >= self.fairness.overdue_after_s
        if chosen.category != GENERAL and not overdue:
            if any(t.category == GENERAL for t in eligible):
                assert self.streak[counter_id] < self.fairness.priority_streak_limit
        self.streak[counter_id] = self.streak[counter_id] + 1 if chosen.category != GENERAL else 0
        self.active[counter_id] = called_id
        self.state[called_id] = State.CALLED

    def _with_active(self, index, state):
        counter_id = self.counter_ids[index]
        ticket_id = self.active.get(counter_id)
        if ticket_id is None or self.state[ticket_id] is not state:
            return None, counter_id
        return ticket_id, counter_id

    @rule(index=st.integers(0, 2))
    def start(self, index):
        ticket_id, counter_id = self._with_active(index, State.CALLED)
        if ticket_id is not None:
            desk.start_service(self.center, counter_id, self.users[counter_id])
            self.state[ticket_id] = State.SERVING

    @rule(index=st.integers(0, 2))
    def recall(self, index):
        ticket_id, counter_id = self._with_active(index, State.CALLED)
        if ticket_id is not None:
            call, facts = calls.recall(self.center, counter_id, self.users[counter_id])
            assert call["call"]["recall"] and call["ticket"]["id"] == ticket_id

    @rule(index=st.integers(0, 2))
    def no_show(self, index):
        ticket_id, counter_id = self._with_active(index, State.CALLED)
        if ticket_id is not None:
            desk.mark_no_show(self.center, counter_id, self.users[counter_id])
            self.state[ticket_id] = State.NO_SHOW
            del self.active[counter_id]

    @rule(index=st.integers(0, 2))
    def finish(self, index):
        ticket_id, counter_id = self._with_active(index, State.SERVING)
        if ticket_id is not None:
            desk.finish(self.center, counter_id, self.users[counter_id], [])
            self.state[ticket_id] = State.DONE
            del self.active[counter_id]

    @rule(index=st.integers(0, 2))
    def hold(self, index):
        ticket_id, counter_id = self._with_active(index, State.SERVING)
        if ticket_id is not None:
            desk.hold(self.center, counter_id, self.users[counter_id])
            self.state[ticket_id] = State.ON_HOLD
            self.held[ticket_id] = counter_id
            del self.active[counter_id]

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def resume(self, data):
        ticket_id = data.draw(st.sampled_from(sorted(self.held)))
        counter_id = self.held[ticket_id]
        with self.center.store.read() as conn:
            label = ticket_views.public_status(conn, self._token(ticket_id))["label"]
        try:
            desk.resume(self.center, counter_id, self.users[counter_id], label)
        except QueueError as error:
            assert counter_id in self.active and error.code == "counter_busy"
            return
        del self.held[ticket_id]
        self.state[ticket_id] = State.SERVING
        self.active[counter_id] = ticket_id

    @rule(index=st.integers(0, 2), service=st.sampled_from(SERVICES))
    def transfer(self, index, service):
        counter_id = self.counter_ids[index]
        ticket_id = self.active.get(counter_id)
        if ticket_id is None:
            return
        moved, _facts = desk.transfer(
            self.center, counter_id, self.users[counter_id], service_code=service
        )
        before = self.waiting.get(ticket_id) or WaitingTicket(
            ticket_id, 0, moved["category"], moved["arrived_at"]
        )
        with self.center.store.read() as conn:
            service_id = conn.execute(
                "SELECT id FROM services WHERE code = ?", (service,)
            ).fetchone()[0]
        self.waiting[ticket_id] = WaitingTicket(
            ticket_id, service_id, before.category, moved["arrived_at"]
        )
        self.state[ticket_id] = State.WAITING
        del self.active[counter_id]

    @rule(seconds=st.sampled_from([60, 600, 3000]))
    def time_passes(self, seconds):
        self.clock.advance(seconds)

    def _token(self, ticket_id):
        with self.center.store.read() as conn:
            return conn.execute("SELECT token FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[
                0
            ]

    @invariant()
    def database_agrees_with_the_model(self):
        if not hasattr(self, "center"):
            return
        with self.center.store.read() as conn:
            rows = conn.execute("SELECT id, state, counter_id FROM tickets").fetchall()
            active = conn.execute(
                "SELECT counter_id, count(*) FROM tickets WHERE state IN ('called', 'serving') "
                "GROUP BY counter_id"
            ).fetchall()
        assert len(rows) == self.issued  # no ticket lost or doubled
        assert {r["id"]: State(r["state"]) for r in rows} == self.state
        assert all(n == 1 for _, n in active)
        assert {r["id"] for r in rows if r["state"] == "waiting"} == set(self.waiting)


QueueMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_queue_invariants = pytest.mark.slow(QueueMachine.TestCase)

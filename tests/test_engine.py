"""The call policy and state machine, on plain data: no database, no web."""

import pytest

from server.queue.engine import (
    GENERAL,
    Action,
    CounterPolicy,
    Fairness,
    State,
    WaitingTicket,
    choose_next,
    label_key,
    next_state,
    streak_after,
    ticket_label,
)
from server.queue.errors import QueueError

COUNTER = CounterPolicy(counter_id=1, service_weights={10: 1.0, 20: 1.0})
FAIR = Fairness(priority_streak_limit=2, overdue_after_s=1800)


def ticket(id_, service=10, category=GENERAL, arrived=0.0, target=None):
    return WaitingTicket(id_, service, category, arrived, target)


def test_label_is_letter_and_three_digits():
    assert ticket_label("A", 7) == "A-007"
    assert ticket_label("B", 1234) == "B-1234"


def test_first_come_first_served_within_a_service():
    waiting = [ticket(2, arrived=20), ticket(1, arrived=10), ticket(3, arrived=30)]
    assert choose_next(waiting, COUNTER, FAIR, 0, now=100).id == 1


def test_priority_visitor_goes_before_general_visitors():
    waiting = [ticket(1, arrived=10), ticket(2, category="disability", arrived=50)]
    assert choose_next(waiting, COUNTER, FAIR, 0, now=100).id == 2


def test_priority_streak_limit_lets_a_general_visitor_through():
    waiting = [ticket(1, arrived=10), ticket(2, category="elderly", arrived=50)]
    assert choose_next(waiting, COUNTER, FAIR, 2, now=100).id == 1


def test_priority_streak_limit_does_not_block_when_nobody_general_waits():
    waiting = [ticket(2, category="elderly", arrived=50)]
    assert choose_next(waiting, COUNTER, FAIR, 5, now=100).id == 2


def test_overdue_visitor_goes_first_whatever_the_category():
    waiting = [ticket(1, arrived=0), ticket(2, category="infants", arrived=1000)]
    assert choose_next(waiting, COUNTER, FAIR, 0, now=1800).id == 1


def test_weight_favours_a_service_at_equal_wait():
    counter = CounterPolicy(1, {10: 1.0, 20: 3.0})
    waiting = [ticket(1, service=10, arrived=0), ticket(2, service=20, arrived=40)]
    # waited 100 s x 1 vs 60 s x 3
    assert choose_next(waiting, counter, FAIR, 0, now=100).id == 2


def test_counter_only_calls_its_services_and_categories():
    dedicated = CounterPolicy(1, {10: 1.0}, frozenset({"disability"}))
    waiting = [
        ticket(1, arrived=0),
        ticket(2, service=20, category="disability"),
        ticket(3, category="elderly"),
    ]
    assert choose_next(waiting, dedicated, FAIR, 0, now=10) is None
    waiting.append(ticket(4, category="disability", arrived=5))
    assert choose_next(waiting, dedicated, FAIR, 0, now=10).id == 4


def test_transfer_to_one_counter_is_invisible_to_others():
    waiting = [ticket(1, arrived=0, target=2)]
    assert choose_next(waiting, COUNTER, FAIR, 0, now=10) is None
    assert choose_next(waiting, CounterPolicy(2, {10: 1.0}), FAIR, 0, now=10).id == 1


def test_streak_counts_priority_calls_and_resets_on_general():
    assert streak_after(1, ticket(1, category="veterans")) == 2
    assert streak_after(3, ticket(1)) == 0


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (State.ISSUED, Action.CONFIRM_PRINT, State.WAITING),
        (State.WAITING, Action.CALL, State.CALLED),
        (State.CALLED, Action.RECALL, State.CALLED),
        (State.CALLED, Action.START, State.SERVING),
        (State.SERVING, Action.FINISH, State.DONE),
        (State.CALLED, Action.NO_SHOW, State.NO_SHOW),
        (State.SERVING, Action.HOLD, State.ON_HOLD),
        (State.ON_HOLD, Action.RESUME, State.SERVING),
        (State.SERVING, Action.TRANSFER, State.WAITING),
        (State.WAITING, Action.CANCEL, State.CANCELLED),
    ],
)
def test_allowed_transitions(state, action, expected):
    assert next_state(state, action) is expected


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.DONE, Action.FINISH),
        (State.WAITING, Action.START),
        (State.NO_SHOW, Action.CALL),
        (State.SERVING, Action.CANCEL),
    ],
)
def test_refused_transitions_say_why(state, action):
    with pytest.raises(QueueError, match="Cannot"):
        next_state(state, action)


def test_a_printed_label_gives_back_the_key_it_was_made_from():
    # Tickets are found by (day, letter, number), an index probe; the label has no index.
    for letter, number in [("A", 1), ("K", 42), ("D", 999), ("B", 1000), ("Z", 12345)]:
        assert label_key(ticket_label(letter, number)) == (letter, number)
    for not_a_label in ["", "A", "A-", "AB-001", "A-0x1", "A-١٢", "-001", "A 001"]:
        assert label_key(not_a_label) is None

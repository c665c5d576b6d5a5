"""HQ faces the internet: clients that send their requests slowly never stop it answering."""

import socket

import pytest
import requests

from tests.live import HTTP_TIMEOUT_S, start_hq

pytestmark = pytest.mark.live

SLOW_CLIENTS = 100


def test_a_hundred_slow_clients_leave_the_booking_page_answering(tmp_path):
    # A gthread HQ of 32 threads stopped with 32 connections that never finished their headers.
    hq = start_hq(tmp_path / "hq")
    port = int(hq.url.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(SLOW_CLIENTS):
            client = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
            client.sendall(b"GET /hq/book HTTP/1.1\r\nHost: hq\r\nX-Slow: ")  # never finished
            slow.append(client)
        for client in slow:  # a byte more each, as a slowloris keeps them open
            client.sendall(b"a")
        answered = requests.get(f"{hq.url}/hq/book", timeout=HTTP_TIMEOUT_S)
        assert answered.status_code == 200
        health = requests.get(f"{hq.url}/healthz", timeout=HTTP_TIMEOUT_S)
        assert health.status_code == 200
        assert all(client.fileno() != -1 for client in slow)  # all still held open
    finally:
        for client in slow:
            client.close()
        hq.stop()

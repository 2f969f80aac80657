"""A small, bounded HTTP load client for loopback: keep-alive connections, one request at a time each.

Each client is one persistent connection that sends its list of requests one after another.
A process drives its share of the clients from one event loop (selectors), so the client's
own cost stays small (0.07-0.11 ms of CPU per request here) and a latency is read the
moment its answer arrives, not when a thread next gets the GIL. Two processes carry the
clients so the client is not serialised on one core.

Two ways to load the server:
- closed loop (rate=None): every client sends its next request as soon as the answer to the
  last one arrived. The throughput is the server's capacity; latency then includes queueing
  behind the other clients (by Little's law, mean latency = clients / throughput).
- open loop (rate=R): requests are due at a steady R per second in all, spread over the
  clients; a latency counts from when the request was due, so a slow answer that delays the
  next request is charged to it too (no coordinated omission).

A body is a JSON object posted with a bearer token (the scan and organiser APIs), or a whole
request already written out as bytes (a form with its cookie, say), and CLASSIFY says what an
answer was: its outcome, or None for an error.

Every run is bounded in requests and in seconds, and only ever connects to 127.0.0.1.
"""

import json
import multiprocessing
import selectors
import socket
import statistics
import time


def _request_bytes(port, path, token, body):
    if isinstance(body, bytes):  # a request written out whole by the caller
        return body
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def json_outcome(status, body):
    """The API answers' classifier: a scan's outcome, the status of another answer (201: an
    attendee added through the organiser API), or None (an error) unless 200 or 201."""
    if status not in (200, 201):
        return None
    return json.loads(body).get("outcome", status)


def _parse_response(buffer):
    """(status, body, rest of buffer) for the first complete response in BUFFER, or None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buffer[:end].split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    start = end + 4
    if len(buffer) < start + length:
        return None
    return status, buffer[start:start + length], buffer[start + length:]


class _Client:
    """One keep-alive connection and its requests."""

    def __init__(self, port, path, token, bodies, interval, first_due, classify):
        self.port, self.classify = port, classify
        self.requests = [_request_bytes(port, path, token, body) for body in bodies]
        self.next = 0
        self.interval = interval
        self.due = first_due
        self.sent_at = None
        self.buffer = b""
        self.latencies, self.labels, self.errors, self.outcomes = [], [], 0, {}
        self.sock = None

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""

    @property
    def done(self):
        return self.next >= len(self.requests)

    def send(self, now):
        # Open loop: the clock starts when the request was due, even if it goes out late.
        self.sent_at = min(self.due, now) if self.interval else now
        self.sock.sendall(self.requests[self.next])

    def receive(self):
        """Read what arrived; True when the answer to the request in flight is complete."""
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk
        parsed = _parse_response(self.buffer)
        if parsed is None:
            return False
        status, body, self.buffer = parsed
        self.latencies.append(time.perf_counter() - self.sent_at)
        outcome = self.classify(status, body)
        self.labels.append(outcome)
        if outcome is None:
            self.errors += 1
        else:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.next += 1
        self.sent_at = None
        if self.interval:
            self.due += self.interval
        return True


def _drive(port, path, tokens, body_lists, first_dues, interval, deadline, queue, classify):
    """Drive these clients until they are done or DEADLINE passes; put (latencies, their outcomes, errors, outcomes)."""
    selector = selectors.DefaultSelector()
    clients = []
    for token, bodies, first_due in zip(tokens, body_lists, first_dues):
        client = _Client(port, path, token, bodies, interval, first_due, classify)
        if not client.done:
            client.connect()
            selector.register(client.sock, selectors.EVENT_READ, client)
            clients.append(client)
    waiting = list(clients)  # idle clients, waiting for their next request to fall due
    busy = 0
    while (waiting or busy) and time.monotonic() < deadline:
        now = time.perf_counter()
        still_waiting = []
        for client in waiting:
            if client.interval == 0 or client.due <= now:
                try:
                    client.send(now)
                    busy += 1
                except OSError:
                    client.errors += 1
                    client.next = len(client.requests)
                    selector.unregister(client.sock)
            else:
                still_waiting.append(client)
        waiting = still_waiting
        timeout = 1.0
        if waiting:
            timeout = max(0.0, min(min(client.due for client in waiting) - time.perf_counter(), 1.0))
        for key, _events in selector.select(timeout):
            client = key.data
            try:
                complete = client.receive()
            except (OSError, ConnectionError):
                client.errors += 1
                client.next = len(client.requests)
                selector.unregister(client.sock)
                busy -= 1
                continue
            if complete:
                busy -= 1
                if client.done:
                    selector.unregister(client.sock)
                else:
                    waiting.append(client)
    outcomes, errors, latencies, labels = {}, 0, [], []
    for client in clients:
        latencies.extend(client.latencies)
        labels.extend(client.labels)
        errors += client.errors + len(client.requests) - client.next  # requests the deadline cut off count too
        for key, value in client.outcomes.items():
            outcomes[key] = outcomes.get(key, 0) + value
        client.sock.close()
    queue.put((latencies, labels, errors, outcomes))


def run(port, tokens, body_lists, *, path="/api/v1/scans", max_seconds=30, processes=2, rate=None, raw=False,
        classify=json_outcome):
    """Run len(body_lists) concurrent clients; returns throughput, latency percentiles, errors, outcomes.

    RATE (requests per second, all clients together) makes it an open-loop run; None, closed loop.
    RAW adds every latency (seconds) to the answer, and the latencies of each outcome.
    """
    clients = len(body_lists)
    processes = max(1, min(processes, clients))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    groups = [list(range(i, clients, processes)) for i in range(processes)]
    interval = clients / rate if rate else 0  # each client's own pace
    started = time.perf_counter()
    start_at = started + 0.2  # the processes' clocks share one start (perf_counter is system-wide)
    # Open loop: client i's first request is due i/clients of an interval in, so requests come evenly.
    first_dues = [start_at + interval * i / clients for i in range(clients)]
    deadline = time.monotonic() + max_seconds
    workers = [
        context.Process(
            target=_drive,
            args=(port, path, [tokens[i % len(tokens)] for i in group], [body_lists[i] for i in group],
                  [first_dues[i] for i in group], interval, deadline, queue, classify),
        )
        for group in groups
    ]
    for worker in workers:
        worker.start()
    collected = [queue.get(timeout=max_seconds + 30) for _ in workers]
    elapsed = time.perf_counter() - (start_at if rate else started)
    for worker in workers:
        worker.join(timeout=10)
    latencies, labels, errors, outcomes = [], [], 0, {}
    for lat, lab, err, out in collected:
        latencies.extend(lat)
        labels.extend(lab)
        errors += err
        for key, value in out.items():
            outcomes[key] = outcomes.get(key, 0) + value
    summary = summarise(latencies, elapsed, errors, outcomes)
    if raw:
        summary["latencies"] = latencies
        summary["by_outcome"] = {}
        for latency, label in zip(latencies, labels):
            summary["by_outcome"].setdefault(label, []).append(latency)
    return summary


def summarise(latencies, elapsed, errors=0, outcomes=None):
    ordered = sorted(latencies)

    def pct(p):
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    return {
        "requests": len(ordered),
        "seconds": elapsed,
        "throughput": len(ordered) / elapsed if elapsed else 0.0,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "mean": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
        "errors": errors,
        "outcomes": outcomes or {},
    }

"""A small, bounded HTTP load client for loopback: keep-alive sockets, one request at a time each.

Each client thread sends its share of requests on one persistent connection and records
the latency of every answer. Processes (not just threads) carry the clients, so the
client's own Python does not serialise on one GIL. Every run is bounded in requests and
in seconds, and only ever connects to 127.0.0.1.
"""

import json
import multiprocessing
import socket
import statistics
import threading
import time


def _request_bytes(port, path, token, body):
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + payload


def _read_response(sock, buffer):
    """Read one HTTP response; returns (status, body, leftover buffer)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        rest += chunk
    return status, rest[:length], rest[length:]


def _client(port, path, token, bodies, deadline, results, expect_outcome):
    latencies, errors, outcomes = [], 0, {}
    sock = None
    buffer = b""
    for body in bodies:
        if time.monotonic() > deadline:
            break
        request = _request_bytes(port, path, token, body)
        for _attempt in range(2):
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buffer = b""
                start = time.perf_counter()
                sock.sendall(request)
                status, payload, buffer = _read_response(sock, buffer)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
                else:
                    outcome = json.loads(payload).get("outcome")
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                break
            except (OSError, ConnectionError):
                if sock is not None:
                    sock.close()
                sock = None
        else:
            errors += 1
    if sock is not None:
        sock.close()
    results.append((latencies, errors, outcomes))


def _process(port, path, tokens, body_lists, deadline, queue, expect_outcome):
    results = []
    threads = [
        threading.Thread(target=_client, args=(port, path, token, bodies, deadline, results, expect_outcome))
        for token, bodies in zip(tokens, body_lists)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def run(port, tokens, body_lists, *, path="/api/v1/scans", max_seconds=30, processes=2, expect_outcome=None):
    """Run len(body_lists) concurrent clients; returns throughput, latency percentiles, errors, outcomes."""
    clients = len(body_lists)
    processes = max(1, min(processes, clients))
    deadline = time.monotonic() + max_seconds
    queue = multiprocessing.get_context("fork").Queue()
    groups = [list(range(i, clients, processes)) for i in range(processes)]
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_process,
            args=(port, path, [tokens[i % len(tokens)] for i in group], [body_lists[i] for i in group], deadline, queue, expect_outcome),
        )
        for group in groups
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    collected = [queue.get(timeout=max_seconds + 30) for _ in workers]
    elapsed = time.perf_counter() - start
    for worker in workers:
        worker.join(timeout=10)
    latencies, errors, outcomes = [], 0, {}
    for results in collected:
        for lat, err, out in results:
            latencies.extend(lat)
            errors += err
            for key, value in out.items():
                outcomes[key] = outcomes.get(key, 0) + value
    return summarise(latencies, elapsed, errors, outcomes)


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

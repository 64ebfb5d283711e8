"""A scenario for the independent client against a running `keyward relay` (TCP, and WebSocket if given).

    python run.py --port TCP_PORT --relay-key B64URL [--ws-url ws://127.0.0.1:PORT/] [--host 127.0.0.1]
                  [--doc ../../docs/relay.md]

Exits 0 only if every check holds; on the first mismatch it prints what differed and exits 1.
Every identity is fresh, so it can run against a relay that has state already.
"""

from __future__ import annotations

import argparse
import base64
import os
import struct
import sys
from pathlib import Path

import client as c
import example_check

checks: list[str] = []


def expect(what: str, got, want) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")
    checks.append(what)


def expect_error(what: str, name: str, fn) -> c.RelayError:
    try:
        fn()
    except c.RelayError as e:
        expect(what, e.name, name)
        return e
    raise AssertionError(f"{what}: no error, expected {name}")


def expect_closed(what: str, fn) -> None:
    """The relay must end the connection (ConnectionClosed), possibly after an ERROR."""
    try:
        fn()
    except c.ConnectionClosed:
        checks.append(what)
        return
    except (ConnectionResetError, BrokenPipeError):
        checks.append(what)
        return
    raise AssertionError(f"{what}: the connection stayed open")


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scenario(ep_alice: c.Endpoint, ep_bob: c.Endpoint, relay_key: bytes) -> None:
    """Alice connects through `ep_alice`, Bob through `ep_bob` (each TCP or WebSocket)."""
    alice, bob = c.Identity.generate(), c.Identity.generate()

    def connect(identity: c.Identity, device: int) -> c.RelayClient:
        return c.RelayClient.connect(ep_alice if identity is alice else ep_bob, identity, relay_key, device)

    # Before Bob ever registered, he is unknown.
    a = connect(alice, 1)
    expect("REGISTERED announces the default max body", a.limits.max_body, c.MAX_BODY)
    expect("REGISTERED announces the default in-flight window", a.limits.max_in_flight, 256)
    expect_error("LIST_DEVICES of an identity with no device", "UNKNOWN_RECIPIENT", lambda: a.list_devices(bob.public))
    expect_error("SEND to an identity with no device", "UNKNOWN_RECIPIENT",
                 lambda: a.send(bob.public, 1, b"too early"))
    expect_error("GET_BUNDLE of a device that never uploaded", "UNKNOWN_RECIPIENT",
                 lambda: a.get_bundle(bob.public, 1))
    a.close()

    # Bob registers device 1 and uploads prekeys: 3 one-time X25519 and 2 one-time ML-KEM keys,
    # fewer than the PREKEYS_LOW threshold (20) on purpose.
    prekeys = c.PrekeySet.generate(bob, n_x25519=3, n_mlkem=2)
    b = connect(bob, 1)
    expect_error("first upload without a signed prekey", "NOT_ALLOWED",
                 lambda: b.upload_prekeys(prekeys.upload_body(with_signed=False)))
    status = b.upload_prekeys(prekeys.upload_body())
    expect("PREKEYS_STORED status", status, c.PrekeyStatus(3, 2, 1, 3, 2))
    expect("empty upload is a status query", b.upload_prekeys(b"\x00\x00\x00"), status)
    expect_error("re-uploading a one-time id that is not above the highest", "STALE_KEY_ID",
                 lambda: b.upload_prekeys(prekeys.upload_body()[:1 + len(prekeys.signed_section())]
                                          + b"\x01" + struct.pack(">I", 3) + c._x25519_keypair()[1] + b"\x00"))
    non_canonical = (2**255 - 19).to_bytes(32, "little")  # u = p: not a canonical X25519 encoding
    expect_error("a one-time X25519 key that is not canonical", "MALFORMED",
                 lambda: b.upload_prekeys(b"\x00\x01" + struct.pack(">I", 4) + non_canonical + b"\x00"))
    forged = bytearray(prekeys.upload_body())
    forged[1 + len(prekeys.signed_section()) - 1] ^= 1  # last byte of the section's signature
    expect_error("a signed section whose signature does not verify", "BAD_SIGNATURE",
                 lambda: b.upload_prekeys(bytes(forged)))
    b.close()  # Bob goes offline

    # Alice: devices, a bundle, three messages while Bob is offline, one retry, one too large.
    a = connect(alice, 1)
    expect("LIST_DEVICES", a.list_devices(bob.public), [1])
    bundle = a.get_bundle(bob.public, 1)
    expect("BUNDLE device", bundle.device, 1)
    expect("BUNDLE is composed byte for byte", bundle.session_bundle,
           prekeys.expected_bundle(prekeys.one_time_x25519[0]))
    expect("bundle verifies, lowest one-time X25519 id claimed",
           c.verify_session_bundle(bundle.session_bundle, bob.public), (1, 1))
    kid, kem_pub, kem_sig = prekeys.one_time_mlkem[0]
    expect("BUNDLE's one-time ML-KEM key = the lowest uploaded", bundle.one_time_kem,
           struct.pack(">I", kid) + kem_pub + kem_sig)
    expect("one-time ML-KEM signature verifies", c.verify_ed25519(
        bob.public, bundle.one_time_kem[-64:], c.one_time_kem_signed_bytes(bob.public, kid, kem_pub)), True)

    bodies = [b"first message", os.urandom(1000), os.urandom(c.MAX_BODY)]  # the last is two chunks
    ids = [os.urandom(16) for _ in bodies]
    sent = []
    for i, (mid, body) in enumerate(zip(ids, bodies)):
        s = a.send(bob.public, 1, body, mid)
        expect(f"SENT copies for message {i + 1}", s.copies, 1)
        sent.append(s)
    retry = a.send(bob.public, 1, bodies[1], ids[1])
    expect("a retry with the same client message id is SENT with the first copy's time",
           retry.stored_at, sent[1].stored_at)
    err = expect_error("a body over the cap", "TOO_LARGE", lambda: a.send(bob.public, 1, os.urandom(c.MAX_BODY + 1)))
    expect("TOO_LARGE carries the request id", err.request_id != 0, True)
    expect("TOO_LARGE has no retry time", err.retry_after_ms, 0)
    expect("the connection goes on after TOO_LARGE", a.list_devices(bob.public), [1])

    # Frames the relay must answer with an ERROR and go on.
    rid = a.start_request(0x10)
    expect("unknown type", c.parse_error(a.wait_answer(rid).body)[0], c.ERROR_CODES["UNKNOWN_COMMAND"])
    rid = a.start_request(c.REGISTERED, b"\x00" * 14)
    expect("a relay type from a client", c.parse_error(a.wait_answer(rid).body)[0], c.ERROR_CODES["NOT_ALLOWED"])
    rid = a.start_request(c.LIST_DEVICES, bob.public, version=2)
    expect("another frame version", c.parse_error(a.wait_answer(rid).body)[0], c.ERROR_CODES["UNSUPPORTED_VERSION"])
    rid = a.start_request(c.ACK, b"\x00" * 7)
    expect("a truncated body", c.parse_error(a.wait_answer(rid).body)[0], c.ERROR_CODES["MALFORMED"])
    expect_error("REGISTER twice", "NOT_ALLOWED", lambda: a.request(c.REGISTER, struct.pack(">I", 1)))
    expect("the connection goes on after those errors", a.list_devices(bob.public), [1])

    # Bundle fetches: 6 per 10 minutes per (requester, target), refused ones included: two were
    # made above (the UNKNOWN_RECIPIENT one before Bob uploaded counts too).
    for _ in range(4):
        a.get_bundle(bob.public, 1)
    limited = expect_error("the 7th bundle fetch", "RATE_LIMITED", lambda: a.get_bundle(bob.public, 1))
    expect("RATE_LIMITED has a retry time", limited.retry_after_ms > 0, True)
    a.close()

    # Bob comes back: PREKEYS_LOW (a claim left fewer than 20), then the three messages in order.
    b = connect(bob, 1)
    low = b.next_push()
    expect("PREKEYS_LOW after REGISTER", low.type, c.PREKEYS_LOW)
    expect("PREKEYS_LOW status: all claimed", c.parse_prekey_status(low.body), c.PrekeyStatus(0, 0, 1, 3, 2))
    backlog = b.fetch()
    expect("the backlog holds the three messages, in order", [d.body for d in backlog], bodies)
    expect("message ids increase", [d.message_id for d in backlog], sorted({d.message_id for d in backlog}))
    expect("sender is Alice's identity, device 1", {(d.sender, d.sender_device) for d in backlog}, {(alice.public, 1)})
    expect("received at = stored at", [d.received_at for d in backlog], [s.stored_at for s in sent])
    for d in backlog:
        b.ack(d.message_id)
    b.ack(backlog[0].message_id)  # acks are idempotent
    checks.append("ACK of each message, and again of an acked one")
    b.close()

    b = connect(bob, 1)
    expect("after the acks, a new connection's FETCH finds nothing", b.fetch(), [])

    # Displacement: a second connection of the same identity and device.
    b2 = connect(bob, 1)
    pushes = [b.next_push().type for _ in range(2)]  # PREKEYS_LOW again after REGISTER, then DISPLACED
    expect("the older connection gets DISPLACED", pushes, [c.PREKEYS_LOW, c.DISPLACED])
    expect_closed("and is closed", b.next_push)
    b.close()
    b2.close()

    # Handshake failures.
    ep = ep_alice
    expect_closed("a handshake pinning another relay key gets no reply",
                  lambda: c.RelayClient.handshake(ep, alice, c.Identity.generate().x25519_public))
    expect_error("claiming an identity that is not the static key", "IDENTITY_MISMATCH",
                 lambda: c.RelayClient.handshake(ep, alice, relay_key, claim=bob.public))
    expect_error("message 1 of another version", "UNSUPPORTED_VERSION",
                 lambda: c.RelayClient.handshake(ep, alice, relay_key, version=2))

    # The first transport frame must be a valid REGISTER; anything else closes, with no ERROR.
    for what, ftype, body in (("a first frame other than REGISTER", c.LIST_DEVICES, bob.public),
                              ("a first REGISTER of device 0", c.REGISTER, b"\x00" * 4)):
        early = c.RelayClient.handshake(ep, alice, relay_key)
        early.start_request(ftype, body)
        expect(f"{what} ends the connection, no ERROR sent", read_until_closed(early), [])
        early.close()


def read_until_closed(conn: c.RelayClient) -> list[c.Frame]:
    """Reads frames until the relay closes; returns what came (errors with request id 0 included)."""
    frames = []
    while True:
        try:
            frames.append(conn.read_frame())
        except c.ConnectionClosed:
            return frames


def scenario_edges(host: str, port: int, relay_key: bytes) -> None:
    """What the document says about the edges: redelivery, live delivery, device 0, refusals that end
    the connection (and whether an ERROR comes first)."""

    def connect(identity: c.Identity, device: int) -> c.RelayClient:
        return c.RelayClient.connect((host, port), identity, relay_key, device)

    alice, bob = c.Identity.generate(), c.Identity.generate()
    b = connect(bob, 1)
    expect("an empty upload before any upload is a status query", b.upload_prekeys(b"\x00\x00\x00"),
           c.PrekeyStatus(0, 0, 0, 0, 0))
    expect("FETCH of an empty mailbox", b.fetch(), [])
    a = connect(alice, 1)
    a.send(bob.public, 1, b"live")
    live = c.parse_deliver(b.next_push().body)
    expect("after QUEUE_EMPTY, a new message is pushed at once", (live.body, live.sender), (b"live", alice.public))
    expect("a second FETCH on the connection is answered QUEUE_EMPTY, nothing delivered twice", b.fetch(), [])
    expect_error("ACK of message id 0", "MALFORMED", lambda: b.ack(0))
    b.close()  # "live" was never acked

    b = connect(bob, 1)
    again = b.fetch()
    expect("an unacked delivery comes again, same id, on the next connection's FETCH",
           [(d.message_id, d.body) for d in again], [(live.message_id, b"live")])
    b.ack(live.message_id)
    b2 = connect(bob, 2)
    expect("a new device's mailbox starts empty", b2.fetch(), [])
    s = a.send(bob.public, 0, b"to every device")
    expect("SEND to device 0 is stored once per registered device", s.copies, 2)
    expect("LIST_DEVICES ascending", a.list_devices(bob.public), [1, 2])
    expect_error("SEND to a device that never registered", "UNKNOWN_RECIPIENT", lambda: a.send(bob.public, 3, b"x"))
    expect_error("GET_BUNDLE for device 0", "MALFORMED", lambda: a.get_bundle(bob.public, 0))
    got = [c.parse_deliver(x.next_push().body).body for x in (b, b2)]
    expect("each device gets its copy", got, [b"to every device"] * 2)
    b.close()
    b2.close()

    # A request with request id 0 is answered by an ERROR with request id 0, and the relay closes.
    a.start_request(c.LIST_DEVICES, bob.public, request_id=0)
    frames = read_until_closed(a)
    expect("request id 0: ERROR MALFORMED with request id 0, then close",
           [(f.type, f.request_id, c.parse_error(f.body)[0]) for f in frames], [(c.ERROR, 0, c.ERROR_CODES["MALFORMED"])])
    a.close()

    # Transport-level violations end the connection with no ERROR frame.
    frame = c.encode_frame(c.LIST_DEVICES, 5, bob.public)
    violations = {
        "a chunk of the wrong size": lambda x: [x.transport.send(x.noise.encrypt(part)) for part in (frame[:10], frame[10:])],
        "a frame header over MAX_FRAME": lambda x: x.transport.send(
            x.noise.encrypt(c.encode_frame(c.SEND, 6, bytes(c.MAX_FRAME - 10 + 1))[: c.MAX_CHUNK])),
        "a TCP length prefix over 65 535": lambda x: x.transport.sock.sendall(struct.pack(">I", c.MAX_NOISE_MESSAGE + 1)),
        "a TCP length prefix of 0": lambda x: x.transport.sock.sendall(struct.pack(">I", 0)),
        "a transport message that does not decrypt": lambda x: x.transport.send(os.urandom(40)),
    }
    for what, violate in violations.items():
        x = connect(alice, 1)
        violate(x)
        expect(f"{what} ends the connection, no ERROR sent", read_until_closed(x), [])
        x.close()


def scenario_websocket(url: str, relay_key: bytes) -> None:
    """What "Transports" says of WebSocket: a text message, or a binary one of 0 or more than
    65 535 bytes, ends the connection (with no ERROR)."""
    alice = c.Identity.generate()
    violations = {
        "a text message": "hello",
        "an empty binary message": b"",
        "a binary message of 65 536 bytes": bytes(c.MAX_NOISE_MESSAGE + 1),
    }
    for what, message in violations.items():
        x = c.RelayClient.connect(url, alice, relay_key, 1)
        x.transport.send_raw(message)
        expect(f"WebSocket: {what} ends the connection, no ERROR sent", read_until_closed(x), [])
        x.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws-url", help="the relay's WebSocket URL: the scenario runs again with Bob on it")
    parser.add_argument("--relay-key", required=True, help="the relay's public key, base64url as printed")
    parser.add_argument("--doc", default=str(Path(__file__).resolve().parents[2] / "docs" / "relay.md"))
    args = parser.parse_args()
    try:
        relay_key = b64url(args.relay_key)
        expect("the relay key is 32 bytes", len(relay_key), 32)
        n_example = len(example_check.check(Path(args.doc).read_text(encoding="utf-8")))
        checks.append(f"the document's hex example ({n_example} values)")
        tcp = (args.host, args.port)
        scenario(tcp, tcp, relay_key)
        scenario_edges(args.host, args.port, relay_key)
        if args.ws_url:
            checks.append("--- again, Alice on TCP and Bob on WebSocket")
            scenario(tcp, args.ws_url, relay_key)
            checks.append("--- Bob on TCP and Alice on WebSocket")
            scenario(args.ws_url, tcp, relay_key)
            scenario_websocket(args.ws_url, relay_key)
    except Exception as e:  # any mismatch or protocol failure is a failed run
        print(f"FAILED after {len(checks)} checks: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    for name in checks:
        print(f"ok  {name}")
    print(f"{len(checks)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

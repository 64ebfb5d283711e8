"""Re-derives docs/relay.md's hex example ("Example") with this client's code.

Every line of the block is checked: the keys (the Ed25519 -> X25519 derivation), both
handshake messages (run as initiator and, with the relay's fixed key, as responder), each
frame (built by the client's encoders from the values the text states, or parsed by its
decoders and compared to them) and each frame's TCP bytes (length prefix ‖ Noise message,
in order on each direction's CipherState).
"""

from __future__ import annotations

import re
import struct
import warnings

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from noise.connection import Keypair, NoiseConnection

import client as c


def parse_block(doc_text: str) -> tuple[dict[str, bytes], list[dict]]:
    """The keys and the entries (title, frame, wire) of the hex-example block."""
    m = re.search(r"<!-- hex-example:begin.*?```text\n(.*?)```", doc_text, re.S)
    if not m:
        raise c.ProtocolError("no hex-example block in the document")
    keys: dict[str, bytes] = {}
    entries: list[dict] = []
    current_field = None
    for line in m.group(1).splitlines():
        if not line.strip() or line.startswith("keys ("):
            continue
        if line.startswith(("->", "<-")):
            entries.append({"title": line, "frame": "", "wire": ""})
            current_field = None
            continue
        parts = line.split()
        if line.startswith(" "):  # continuation of frame/wire hex
            entries[-1][current_field] += parts[0]
        elif entries and parts[0] in ("frame", "wire"):
            current_field = parts[0]
            entries[-1][current_field] += parts[1]
        else:
            keys[parts[0]] = bytes.fromhex(parts[1])
    for e in entries:
        e["frame"] = bytes.fromhex(e["frame"])
        e["wire"] = bytes.fromhex(e["wire"])
    return keys, entries


def _pub(secret: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def check(doc_text: str) -> list[str]:
    """Returns the list of checks that passed; raises AssertionError at the first mismatch."""
    done: list[str] = []

    def expect(what: str, got, want) -> None:
        if got != want:
            raise AssertionError(f"example: {what}: got {got!r}, document says {want!r}")
        done.append(what)

    keys, entries = parse_block(doc_text)
    alice = c.Identity(keys["seed"])
    expect("ed25519 from seed", alice.public, keys["ed25519"])
    expect("x-sec = SHA-512(seed)[0..32] as is", alice.x25519_secret, keys["x-sec"])
    expect("x25519 = X25519(x-sec)", alice.x25519_public, keys["x25519"])
    expect("x25519 = Montgomery form of ed25519", c.x25519_form(alice.public), keys["x25519"])
    expect("relay-p = X25519(relay-s)", _pub(keys["relay-s"]), keys["relay-p"])

    with warnings.catch_warnings():  # noiseprotocol warns about fixed ephemerals: the example uses them
        warnings.simplefilter("ignore")
        client = c.new_initiator(alice, keys["relay-p"], ephemeral=keys["c-eph"])
        relay = NoiseConnection.from_name(c.PROTOCOL_NAME)
        relay.set_as_responder()
        relay.set_prologue(c.PROLOGUE)
        relay.set_keypair_from_private_bytes(Keypair.STATIC, keys["relay-s"])
        relay.set_keypair_from_private_bytes(Keypair.EPHEMERAL, keys["r-eph"])
        relay.start_handshake()

    def tcp(message: bytes) -> bytes:
        return struct.pack(">I", len(message)) + bytes(message)

    e = entries[0]
    m1 = client.write_message(c.handshake_payload(alice.public))
    expect("message 1 is 129 bytes", len(m1), 129)
    expect("message 1 wire", tcp(m1), e["wire"])
    payload1 = bytes(relay.read_message(bytes(m1)))
    expect("message 1 payload = 01 ‖ identity", payload1, b"\x01" + alice.public)
    expect("message 1 static key = X25519 form of the claim",
           relay.noise_protocol.handshake_state.rs.public_bytes, c.x25519_form(payload1[1:]))

    e = entries[1]
    m2 = relay.write_message(b"\x01\x00\x00")
    expect("message 2 is 51 bytes", len(m2), 51)
    expect("message 2 wire", tcp(m2), e["wire"])
    expect("message 2 status", c.parse_message2_payload(bytes(client.read_message(bytes(m2)))), 0)

    bob, carol = keys["bob"], keys["carol"]
    # What the text says each frame is; the client's encoders must produce the same bytes, and its
    # decoders must read the relay's frames back to these values.
    client_frames = {
        "REGISTER": c.encode_frame(c.REGISTER, 1, struct.pack(">I", 1)),
        "SEND": c.encode_frame(c.SEND, 2, c.send_body(b"\x11" * 16, bob, 0, b"ciphertext for bob")),
        "FETCH": c.encode_frame(c.FETCH, 3),
        "ACK": c.encode_frame(c.ACK, 4, struct.pack(">Q", 7)),
        "GET_BUNDLE": c.encode_frame(c.GET_BUNDLE, 5, bob + struct.pack(">I", 1)),
    }
    for e in entries[2:]:
        name = e["title"].split()[1]
        frame = c.Frame.decode(e["frame"])
        rid = int(re.search(r"request id (\d+)", e["title"]).group(1))
        expect(f"{name} request id", frame.request_id, rid)
        if e["title"].startswith("->"):
            expect(f"{name} frame", e["frame"], client_frames[name])
            sender, receiver = client, relay
        else:
            sender, receiver = relay, client
            if name == "REGISTERED":
                limits = c.parse_registered(frame.body)
                expect("REGISTERED limits", (limits.max_body, limits.max_in_flight), (c.MAX_BODY, 256))
            elif name == "SENT":
                expect("SENT copies", c.parse_sent(frame.body).copies, 1)
            elif name == "DELIVER":
                d = c.parse_deliver(frame.body)
                expect("DELIVER", (d.message_id, d.sender, d.sender_device, d.body),
                       (7, carol, 2, b"ciphertext for alice"))
            elif name in ("QUEUE_EMPTY", "ACKED"):
                expect(f"{name} body", frame.body, b"")
            elif name == "ERROR":
                code, retry = c.parse_error(frame.body)
                expect("ERROR", (c.ERROR_NAMES[code], retry), ("RATE_LIMITED", 60000))
        chunks = c.chunk_frame(e["frame"])
        expect(f"{name} is one chunk", len(chunks), 1)
        message = sender.encrypt(bytes(chunks[0]))
        expect(f"{name} wire", tcp(message), e["wire"])
        expect(f"{name} decrypts", bytes(receiver.decrypt(message)), e["frame"])
    return done

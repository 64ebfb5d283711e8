"""An independent client for the keyward relay protocol, version 1.

Written from docs/relay.md alone (plus the Noise spec), to show that the
document is enough to talk to `keyward relay`. Crypto comes from packages:
`noiseprotocol` (Noise_IK_25519_ChaChaPoly_BLAKE2s), `cryptography` (Ed25519,
X25519, ML-KEM-768) and PyNaCl (libsodium's Ed25519 -> X25519 public key map).
Transports: TCP (stdlib `socket`) and WebSocket (the `websockets` package).

Every section reference below is to docs/relay.md.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from collections import deque
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from noise.connection import Keypair, NoiseConnection
from websockets.exceptions import ConnectionClosed as WsClosed
from websockets.sync.client import connect as ws_connect

# "Handshake" table.
PROTOCOL_NAME = b"Noise_IK_25519_ChaChaPoly_BLAKE2s"
PROLOGUE = b"keyward relay"
VERSION = 0x01

# "Limits" table (the framing ones are fixed by the protocol version).
MAX_NOISE_MESSAGE = 65535
MAX_CHUNK = 65519
MAX_FRAME = 147456
MAX_BODY = 98304
HEADER_LEN = 10

# "Frames" type table.
REGISTER, SEND, FETCH, ACK, UPLOAD_PREKEYS, GET_BUNDLE, LIST_DEVICES = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
REGISTERED, SENT, QUEUE_EMPTY, ACKED, PREKEYS_STORED, BUNDLE, DEVICES = 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87
ERROR, DELIVER, PREKEYS_LOW, DISPLACED = 0xFF, 0xC0, 0xC1, 0xC2
PUSH_TYPES = (DELIVER, PREKEYS_LOW, DISPLACED)
ANSWER_TO = {
    REGISTER: REGISTERED, SEND: SENT, FETCH: QUEUE_EMPTY, ACK: ACKED,
    UPLOAD_PREKEYS: PREKEYS_STORED, GET_BUNDLE: BUNDLE, LIST_DEVICES: DEVICES,
}

# "Error codes" table.
ERROR_NAMES = {
    0x0001: "MALFORMED", 0x0002: "UNSUPPORTED_VERSION", 0x0003: "UNKNOWN_COMMAND",
    0x0004: "NOT_ALLOWED", 0x0005: "TOO_LARGE", 0x0006: "QUOTA", 0x0007: "RATE_LIMITED",
    0x0008: "UNKNOWN_RECIPIENT", 0x0009: "BAD_SIGNATURE", 0x000A: "STALE_KEY_ID",
    0x000B: "IDENTITY_MISMATCH", 0x000C: "UNAVAILABLE",
}
ERROR_CODES = {name: code for code, name in ERROR_NAMES.items()}

# "Prekeys": signature contexts.
BUNDLE_SIGNATURE_CONTEXT = b"keyward prekey bundle v1"
ONE_TIME_KEM_CONTEXT = b"keyward one-time kem prekey v1"
MLKEM_KEY_LEN = 1184


class RelayError(Exception):
    """The relay answered with an error code (message 2's status or an ERROR frame)."""

    def __init__(self, code: int, request_id: int = 0, retry_after_ms: int = 0):
        self.code = code
        self.name = ERROR_NAMES.get(code, f"0x{code:04x}")
        self.request_id = request_id
        self.retry_after_ms = retry_after_ms
        super().__init__(f"relay error {self.name} (request id {request_id}, retry after {retry_after_ms} ms)")


class ProtocolError(Exception):
    """Something the protocol forbids happened (a bad frame, a decryption failure, a close)."""


class ConnectionClosed(ProtocolError):
    """The peer closed the TCP stream (cleanly between messages, or inside one)."""


# --- identities -------------------------------------------------------------------------------


class Identity:
    """An Ed25519 identity; its X25519 form is the Noise static key ("The client's static key")."""

    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise ValueError("an identity seed is 32 bytes")
        self._seed = seed
        self._signing = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        # "SHA-512(seed)[0..32], as is": X25519 clamps it on use (RFC 7748).
        self.x25519_secret = hashlib.sha512(seed).digest()[:32]
        self.x25519_public = (
            X25519PrivateKey.from_private_bytes(self.x25519_secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )

    @classmethod
    def generate(cls) -> "Identity":
        return cls(os.urandom(32))

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message)


def x25519_form(ed25519_public: bytes) -> bytes:
    """The Montgomery form u = (1 + y) / (1 - y) of an Ed25519 public key (libsodium's map)."""
    return crypto_sign_ed25519_pk_to_curve25519(ed25519_public)


def verify_ed25519(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except Exception:  # InvalidSignature, or a public key that does not decode
        return False


# --- frames ("Frames": header and bodies) --------------------------------------------------------


def encode_frame(ftype: int, request_id: int, body: bytes = b"", version: int = VERSION) -> bytes:
    return struct.pack(">BBII", version, ftype, request_id, len(body)) + body


def decode_header(data: bytes) -> tuple[int, int, int, int]:
    """(version, type, request id, body length) of the first 10 bytes."""
    if len(data) < HEADER_LEN:
        raise ProtocolError("a frame shorter than its 10-byte header")
    return struct.unpack(">BBII", data[:HEADER_LEN])


@dataclass
class Frame:
    version: int
    type: int
    request_id: int
    body: bytes

    @classmethod
    def decode(cls, data: bytes) -> "Frame":
        version, ftype, rid, length = decode_header(data)
        if len(data) != HEADER_LEN + length:
            raise ProtocolError("a frame whose length field does not match its size")
        return cls(version, ftype, rid, bytes(data[HEADER_LEN:]))


def _exact(body: bytes, n: int, what: str) -> None:
    if len(body) != n:
        raise ProtocolError(f"{what} body is {len(body)} bytes, expected {n}")


@dataclass
class Limits:
    max_body: int
    max_in_flight: int
    relay_time: int


def parse_registered(body: bytes) -> Limits:
    _exact(body, 14, "REGISTERED")
    return Limits(*struct.unpack(">IHQ", body))


def send_body(message_id: bytes, recipient: bytes, device: int, payload: bytes) -> bytes:
    if len(message_id) != 16 or len(recipient) != 32:
        raise ValueError("SEND takes a 16-byte message id and a 32-byte recipient")
    return message_id + recipient + struct.pack(">II", device, len(payload)) + payload


@dataclass
class Sent:
    stored_at: int
    copies: int


def parse_sent(body: bytes) -> Sent:
    _exact(body, 10, "SENT")
    return Sent(*struct.unpack(">QH", body))


@dataclass
class Delivery:
    message_id: int
    sender: bytes
    sender_device: int
    received_at: int
    body: bytes


def parse_deliver(body: bytes) -> Delivery:
    if len(body) < 56:
        raise ProtocolError("DELIVER body shorter than 56 bytes")
    message_id = struct.unpack(">Q", body[:8])[0]
    sender = bytes(body[8:40])
    sender_device, received_at, length = struct.unpack(">IQI", body[40:56])
    _exact(body, 56 + length, "DELIVER")
    return Delivery(message_id, sender, sender_device, received_at, bytes(body[56:]))


@dataclass
class PrekeyStatus:
    one_time_x25519: int
    one_time_mlkem: int
    signed_prekey_id: int
    highest_x25519_id: int
    highest_mlkem_id: int


def parse_prekey_status(body: bytes) -> PrekeyStatus:
    _exact(body, 16, "prekey status")
    return PrekeyStatus(*struct.unpack(">HHIII", body))


def parse_error(body: bytes) -> tuple[int, int]:
    _exact(body, 6, "ERROR")
    return struct.unpack(">HI", body)


def parse_devices(body: bytes) -> list[int]:
    if len(body) < 2:
        raise ProtocolError("DEVICES body shorter than 2 bytes")
    count = struct.unpack(">H", body[:2])[0]
    _exact(body, 2 + 4 * count, "DEVICES")
    devices = list(struct.unpack(f">{count}I", body[2:]))
    if devices != sorted(set(devices)):
        raise ProtocolError("DEVICES not strictly ascending")
    return devices


@dataclass
class Bundle:
    device: int
    session_bundle: bytes
    one_time_kem: bytes | None  # id (4) ‖ key (1184) ‖ signature (64)


def parse_bundle(body: bytes) -> Bundle:
    if len(body) < 6:
        raise ProtocolError("BUNDLE body shorter than 6 bytes")
    device, n = struct.unpack(">IH", body[:6])
    if not 1 <= n <= 2048 or len(body) < 7 + n:
        raise ProtocolError("BUNDLE with a bad session bundle length")
    session_bundle = bytes(body[6 : 6 + n])
    flag = body[6 + n]
    if flag == 0:
        _exact(body, 7 + n, "BUNDLE")
        return Bundle(device, session_bundle, None)
    if flag != 1:
        raise ProtocolError("BUNDLE flag not 0 or 1")
    _exact(body, 7 + n + 4 + MLKEM_KEY_LEN + 64, "BUNDLE")
    return Bundle(device, session_bundle, bytes(body[7 + n :]))


# --- prekeys ("UPLOAD_PREKEYS", "Prekeys") ---------------------------------------------------------


def _x25519_keypair() -> tuple[X25519PrivateKey, bytes]:
    key = X25519PrivateKey.generate()
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _mlkem_keypair() -> tuple[MLKEM768PrivateKey, bytes]:
    key = MLKEM768PrivateKey.generate()
    return key, key.public_key().public_bytes_raw()


def one_time_kem_signed_bytes(owner: bytes, key_id: int, key: bytes) -> bytes:
    return ONE_TIME_KEM_CONTEXT + owner + struct.pack(">I", key_id) + key


@dataclass
class PrekeySet:
    """What a device publishes: a signed prekey, a last-resort ML-KEM key and one-time keys."""

    identity: Identity
    signed_id: int
    signed_public: bytes
    kem_id: int
    kem_public: bytes
    one_time_x25519: list[tuple[int, bytes]] = field(default_factory=list)
    one_time_mlkem: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    _secrets: list = field(default_factory=list)  # kept so the keys stay real and usable

    @classmethod
    def generate(cls, identity: Identity, n_x25519: int, n_mlkem: int, first_id: int = 1) -> "PrekeySet":
        spk, spk_pub = _x25519_keypair()
        kem, kem_pub = _mlkem_keypair()
        s = cls(identity, first_id, spk_pub, first_id, kem_pub, _secrets=[spk, kem])
        for i in range(n_x25519):
            key, pub = _x25519_keypair()
            s._secrets.append(key)
            s.one_time_x25519.append((first_id + i, pub))
        for i in range(n_mlkem):
            key, pub = _mlkem_keypair()
            s._secrets.append(key)
            kid = first_id + i
            s.one_time_mlkem.append((kid, pub, identity.sign(one_time_kem_signed_bytes(identity.public, kid, pub))))
        return s

    def signed_fields(self) -> bytes:
        """bytes[34 .. signature] of the bundle: the part after the owner that the signature covers."""
        return struct.pack(">I", self.signed_id) + self.signed_public + b"\x01" + struct.pack(">I", self.kem_id) + self.kem_public

    def signed_section(self) -> bytes:
        """The upload's signed prekey section = bundle bytes[34 .. one-time flag]."""
        fields = self.signed_fields()
        signature = self.identity.sign(BUNDLE_SIGNATURE_CONTEXT + self.identity.public + fields)
        return fields + signature

    def upload_body(self, with_signed: bool = True) -> bytes:
        out = bytearray(b"\x01" + self.signed_section() if with_signed else b"\x00")
        out.append(len(self.one_time_x25519))
        for kid, pub in self.one_time_x25519:
            out += struct.pack(">I", kid) + pub
        out.append(len(self.one_time_mlkem))
        for kid, pub, sig in self.one_time_mlkem:
            out += struct.pack(">I", kid) + pub + sig
        return bytes(out)

    def expected_bundle(self, one_time: tuple[int, bytes] | None) -> bytes:
        """The session bundle the relay composes: 01 20 ‖ owner ‖ section ‖ flag ‖ [id ‖ key]."""
        tail = b"\x01" + struct.pack(">I", one_time[0]) + one_time[1] if one_time else b"\x00"
        return b"\x01\x20" + self.identity.public + self.signed_section() + tail


def verify_session_bundle(bundle: bytes, owner: bytes) -> tuple[int, int | None]:
    """Checks a composed bundle's layout and signature; returns (signed prekey id, one-time id or None)."""
    if len(bundle) < 71 or bundle[0] != 0x01 or bundle[1] != 0x20 or bundle[2:34] != owner:
        raise ProtocolError("bundle header or owner is wrong")
    pos = 71 + (4 + MLKEM_KEY_LEN if bundle[70] == 1 else 0)
    if bundle[70] not in (0, 1) or len(bundle) < pos + 65:
        raise ProtocolError("bundle too short")
    if not verify_ed25519(owner, bundle[pos : pos + 64], BUNDLE_SIGNATURE_CONTEXT + bundle[2:pos]):
        raise ProtocolError("bundle signature does not verify")
    flag = bundle[pos + 64]
    if flag == 0 and len(bundle) == pos + 65:
        return struct.unpack(">I", bundle[34:38])[0], None
    if flag == 1 and len(bundle) == pos + 65 + 36:
        return struct.unpack(">I", bundle[34:38])[0], struct.unpack(">I", bundle[pos + 65 : pos + 69])[0]
    raise ProtocolError("bundle one-time prekey part is malformed")


# --- Noise, chunks and TCP ("Handshake", "Frame encryption", "Transports") -------------------------


def new_initiator(identity: Identity, relay_public: bytes, ephemeral: bytes | None = None) -> NoiseConnection:
    noise = NoiseConnection.from_name(PROTOCOL_NAME)
    noise.set_as_initiator()
    noise.set_prologue(PROLOGUE)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, identity.x25519_secret)
    noise.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, relay_public)
    if ephemeral is not None:  # only for reproducing the document's example
        noise.set_keypair_from_private_bytes(Keypair.EPHEMERAL, ephemeral)
    noise.start_handshake()
    return noise


def handshake_payload(claimed_identity: bytes, version: int = VERSION) -> bytes:
    return bytes([version]) + claimed_identity


def parse_message2_payload(payload: bytes) -> int:
    """Returns the status; message 2's payload is version (1) ‖ status (2)."""
    if len(payload) != 3 or payload[0] != VERSION:
        raise ProtocolError("message 2 payload is not version 1 ‖ status")
    return struct.unpack(">H", payload[1:])[0]


def chunk_frame(frame: bytes) -> list[bytes]:
    """Cuts a frame into chunks of exactly 65 519 bytes but the last."""
    return [frame[i : i + MAX_CHUNK] for i in range(0, len(frame), MAX_CHUNK)] or [b""]


class Reassembler:
    """The receiver side of "Frame encryption": header from the first chunk, exact chunk sizes."""

    def __init__(self):
        self._buf: bytearray | None = None
        self._total = 0

    def feed(self, chunk: bytes) -> bytes | None:
        if self._buf is None:
            _, _, _, length = decode_header(chunk)
            self._total = HEADER_LEN + length
            if self._total > MAX_FRAME:
                raise ProtocolError("a frame over MAX_FRAME")
            self._buf = bytearray()
        if len(chunk) != min(MAX_CHUNK, self._total - len(self._buf)):
            raise ProtocolError("a chunk of the wrong size")
        self._buf += chunk
        if len(self._buf) < self._total:
            return None
        frame, self._buf = bytes(self._buf), None
        return frame


class TcpTransport:
    """length (u32, big-endian, 1..65 535) ‖ Noise message, per Noise message."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def send(self, message: bytes) -> None:
        if not 1 <= len(message) <= MAX_NOISE_MESSAGE:
            raise ValueError("a Noise message is 1 to 65 535 bytes")
        self.sock.sendall(struct.pack(">I", len(message)) + message)

    def _read_exact(self, n: int, inside: bool) -> bytes:
        out = bytearray()
        while len(out) < n:
            got = self.sock.recv(n - len(out))
            if not got:
                raise ConnectionClosed("stream ended inside a message" if inside or out else "connection closed")
            out += got
        return bytes(out)

    def recv(self) -> bytes:
        (length,) = struct.unpack(">I", self._read_exact(4, False))
        if not 1 <= length <= MAX_NOISE_MESSAGE:
            raise ProtocolError(f"TCP length prefix {length} out of range")
        return self._read_exact(length, True)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class WsTransport:
    """One binary WebSocket message per Noise message (1 to 65 535 bytes); no subprotocol."""

    def __init__(self, url: str, timeout: float = 10.0):
        # No proxy (loopback tests), no keepalive pings (they would race the frames we count).
        self.ws = ws_connect(url, open_timeout=timeout, max_size=MAX_NOISE_MESSAGE, proxy=None, ping_interval=None)
        self.timeout = timeout

    def send(self, message: bytes) -> None:
        if not 1 <= len(message) <= MAX_NOISE_MESSAGE:
            raise ValueError("a Noise message is 1 to 65 535 bytes")
        self.send_raw(message)

    def send_raw(self, message: bytes | str) -> None:
        """Sends any WebSocket message, even one the protocol forbids (for the checks)."""
        try:
            self.ws.send(message)
        except WsClosed as e:
            raise ConnectionClosed("connection closed") from e

    def recv(self) -> bytes:
        try:
            message = self.ws.recv(timeout=self.timeout)
        except WsClosed as e:
            raise ConnectionClosed("connection closed") from e
        if isinstance(message, str) or not 1 <= len(message) <= MAX_NOISE_MESSAGE:
            raise ProtocolError("a text message, or a binary one of 0 or over 65 535 bytes")
        return message

    def close(self) -> None:
        self.ws.close()


Endpoint = tuple[str, int] | str  # (host, port) for TCP, or a ws:// URL


def open_transport(endpoint: Endpoint, timeout: float = 10.0):
    if isinstance(endpoint, str):
        return WsTransport(endpoint, timeout)
    host, port = endpoint
    return TcpTransport(host, port, timeout)


# --- the client ------------------------------------------------------------------------------------


class RelayClient:
    """One connection: handshake pinning the relay key, REGISTER, then requests matched by request id."""

    def __init__(self, transport: "TcpTransport | WsTransport", noise: NoiseConnection):
        self.transport = transport
        self.noise = noise
        self.reassembler = Reassembler()
        self.pushes: deque[Frame] = deque()
        self.answers: dict[int, Frame] = {}
        self.next_request_id = 1
        self.limits: Limits | None = None

    @classmethod
    def handshake(cls, endpoint: Endpoint, identity: Identity, relay_public: bytes,
                  claim: bytes | None = None, version: int = VERSION, timeout: float = 10.0) -> "RelayClient":
        """Messages 1 and 2. Raises RelayError on a refusal status, ConnectionClosed if the relay
        closes without a reply (what a wrong pinned key gets)."""
        transport = open_transport(endpoint, timeout)
        try:
            noise = new_initiator(identity, relay_public)
            transport.send(bytes(noise.write_message(handshake_payload(claim or identity.public, version))))
            message2 = transport.recv()
            try:
                payload = noise.read_message(message2)
            except Exception as e:  # the relay is not the pinned one
                raise ProtocolError("message 2 does not authenticate") from e
            status = parse_message2_payload(bytes(payload))
            if status != 0:
                raise RelayError(status)
            return cls(transport, noise)
        except BaseException:
            transport.close()
            raise

    @classmethod
    def connect(cls, endpoint: Endpoint, identity: Identity, relay_public: bytes, device: int,
                timeout: float = 10.0) -> "RelayClient":
        client = cls.handshake(endpoint, identity, relay_public, timeout=timeout)
        try:
            client.limits = parse_registered(client.request(REGISTER, struct.pack(">I", device)))
            return client
        except BaseException:
            client.close()
            raise

    # transport level

    def send_frame(self, frame: bytes) -> None:
        for chunk in chunk_frame(frame):
            self.transport.send(self.noise.encrypt(bytes(chunk)))

    def read_frame(self) -> Frame:
        while True:
            message = self.transport.recv()
            try:
                chunk = self.noise.decrypt(message)
            except Exception as e:
                raise ProtocolError("a transport message that does not decrypt") from e
            frame = self.reassembler.feed(chunk)
            if frame is not None:
                return Frame.decode(frame)

    def _route(self, frame: Frame) -> None:
        if frame.version != VERSION:
            raise ProtocolError(f"frame version {frame.version}")
        if frame.type in PUSH_TYPES:
            if frame.request_id != 0:
                raise ProtocolError("a push with a non-zero request id")
            self.pushes.append(frame)
        elif frame.request_id == 0:
            if frame.type == ERROR:
                code, retry = parse_error(frame.body)
                raise RelayError(code, 0, retry)
            raise ProtocolError(f"frame type 0x{frame.type:02x} with request id 0")
        else:
            self.answers[frame.request_id] = frame

    # requests

    def start_request(self, ftype: int, body: bytes = b"", request_id: int | None = None, version: int = VERSION) -> int:
        rid = request_id if request_id is not None else self.next_request_id
        self.next_request_id = max(self.next_request_id, rid + 1)
        self.send_frame(encode_frame(ftype, rid, body, version))
        return rid

    def wait_answer(self, rid: int) -> Frame:
        while rid not in self.answers:
            self._route(self.read_frame())
        return self.answers.pop(rid)

    def request(self, ftype: int, body: bytes = b"", expect: int | None = None) -> bytes:
        """Sends one request, returns the success answer's body; an ERROR raises RelayError."""
        rid = self.start_request(ftype, body)
        answer = self.wait_answer(rid)
        if answer.type == ERROR:
            code, retry = parse_error(answer.body)
            raise RelayError(code, rid, retry)
        wanted = expect if expect is not None else ANSWER_TO[ftype]
        if answer.type != wanted:
            raise ProtocolError(f"request 0x{ftype:02x} answered by 0x{answer.type:02x}")
        return answer.body

    def send(self, recipient: bytes, device: int, payload: bytes, message_id: bytes | None = None) -> Sent:
        return parse_sent(self.request(SEND, send_body(message_id or os.urandom(16), recipient, device, payload)))

    def fetch(self) -> list[Delivery]:
        """FETCH; returns the DELIVERs that came before QUEUE_EMPTY (the backlog)."""
        rid = self.start_request(FETCH)
        while True:
            if rid in self.answers:
                answer = self.answers.pop(rid)
                if answer.type == ERROR:
                    code, retry = parse_error(answer.body)
                    raise RelayError(code, rid, retry)
                if answer.type != QUEUE_EMPTY or answer.body:
                    raise ProtocolError("FETCH not answered by an empty QUEUE_EMPTY")
                break
            self._route(self.read_frame())
        backlog = [parse_deliver(f.body) for f in self.pushes if f.type == DELIVER]
        self.pushes = deque(f for f in self.pushes if f.type != DELIVER)
        return backlog

    def ack(self, message_id: int) -> None:
        body = self.request(ACK, struct.pack(">Q", message_id))
        if body:
            raise ProtocolError("ACKED with a body")

    def upload_prekeys(self, body: bytes) -> PrekeyStatus:
        return parse_prekey_status(self.request(UPLOAD_PREKEYS, body))

    def get_bundle(self, identity: bytes, device: int) -> Bundle:
        return parse_bundle(self.request(GET_BUNDLE, identity + struct.pack(">I", device)))

    def list_devices(self, identity: bytes) -> list[int]:
        return parse_devices(self.request(LIST_DEVICES, identity))

    def next_push(self) -> Frame:
        while not self.pushes:
            self._route(self.read_frame())
        return self.pushes.popleft()

    def close(self) -> None:
        self.transport.close()

#!/usr/bin/env python3
# Reads docs/relay.md only and re-derives its hex example from the Noise spec
# with Python's `cryptography` (X25519, BLAKE2s, ChaCha20-Poly1305): a second,
# independent implementation of the handshake, the key split and the frame
# encryption. Not part of cargo test (it needs Python); run it after changing
# the protocol: python3 crates/relay/scripts/independent_check.py docs/relay.md
import hashlib, hmac, re, struct, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

doc = open(sys.argv[1]).read()
block = doc[doc.index('hex-example:begin'):doc.index('hex-example:end')]
vals, steps, cur = {}, [], None
for line in block.splitlines():
    m = re.match(r'^(\S+)\s+([0-9a-f]+)$', line)
    if line.startswith(('->', '<-')):
        cur = {'dir': line[:2], 'name': line[3:]}; steps.append(cur); last = None
    elif m and cur is None:
        vals[m.group(1)] = bytes.fromhex(m.group(2))
    elif m:
        last = m.group(1); cur[last] = bytes.fromhex(m.group(2))
    elif re.match(r'^\s+[0-9a-f]+$', line):
        cur[last] += bytes.fromhex(line.strip())

def pub(sk): return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
def dh(sk, pk): return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
H = lambda d: hashlib.blake2s(d).digest()
def hkdf(ck, ikm):
    t = hmac.new(ck, ikm, hashlib.blake2s).digest()
    o1 = hmac.new(t, b'\x01', hashlib.blake2s).digest()
    return o1, hmac.new(t, o1 + b'\x02', hashlib.blake2s).digest()
def nonce(n): return b'\0' * 4 + struct.pack('<Q', n)

h = H(b'Noise_IK_25519_ChaChaPoly_BLAKE2s'); ck = h; k = None; n = 0
def mixhash(d):
    global h; h = H(h + d)
def mixkey(ikm):
    global ck, k, n; ck, k = hkdf(ck, ikm); n = 0
def enc(p):
    global n; c = ChaCha20Poly1305(k).encrypt(nonce(n), p, h); n += 1; mixhash(c); return c
def dec(c):
    global n; p = ChaCha20Poly1305(k).decrypt(nonce(n), c, h); n += 1; mixhash(c); return p

# The client's static key from the identity seed (doc: clamped SHA-512 half).
xs = hashlib.sha512(vals["seed"]).digest()[:32]
assert xs == vals['x-sec'] and pub(xs) == vals['x25519'], 'x25519 form'
rs = vals['relay-p']; assert pub(vals['relay-s']) == rs
e = vals['c-eph']
mixhash(b'keyward relay'); mixhash(rs)
mixhash(pub(e)); mixkey(dh(e, rs))
m1 = pub(e) + enc(pub(xs))
mixkey(dh(xs, rs))
m1 += enc(b'\x01' + vals['ed25519'])
assert struct.pack('>I', len(m1)) + m1 == steps[0]['wire'], 'message 1'
w2 = steps[1]['wire']; assert struct.unpack('>I', w2[:4])[0] == len(w2) - 4
re_ = w2[4:36]; mixhash(re_); mixkey(dh(e, re_)); mixkey(dh(xs, re_))
assert dec(w2[36:]) == b'\x01\x00\x00', 'message 2 status'
send_k, recv_k = hkdf(ck, b'')
ns = {'->': 0, '<-': 0}
for s in steps[2:]:
    key = send_k if s['dir'] == '->' else recv_k
    body = s['wire'][4:]
    assert struct.unpack('>I', s['wire'][:4])[0] == len(body)
    plain = ChaCha20Poly1305(key).decrypt(nonce(ns[s['dir']]), body, b'')
    ns[s['dir']] += 1
    assert plain == s['frame'], s['name']
    assert plain[0] == 1 and struct.unpack('>I', plain[6:10])[0] == len(plain) - 10
    print('ok', s['name'], plain[1:2].hex())
print('independent check passed:', len(steps), 'steps')

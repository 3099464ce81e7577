#!/usr/bin/env python3
# Known-answer vectors for Causeway's handshake, made by an independent implementation.
#
# Causeway's handshake is Noise_IKpsk2_25519_ChaChaPoly_SHA256. This script runs the same
# pattern with the Python `noiseprotocol` package, as initiator AND as responder, from fixed
# static and ephemeral keys, and records the transcript (both messages), the handshake hash,
# the two transport keys after Split and one transport message each way, sealed with the
# transport cipher the two cipher offers agree on (ChaCha20-Poly1305 or AES-256-GCM, each
# with its Noise nonce) at a counter whose top byte names a sending lane. The Swift unit
# tests check our implementation against that file, so a mistake in our transcript or key
# schedule cannot hide behind our own code agreeing with itself.
#
#   interop.py --write FILE   writes the vectors as JSON (sorted keys, all bytes as lowercase hex)
#   interop.py --check FILE   recomputes them; exits 0 if FILE matches exactly, 1 if not
#
# It needs noiseprotocol on PYTHONPATH (the Makefile sets PYTHONPATH=.build/python, which
# `make deps` fills). Standard library plus noiseprotocol only.

import argparse
import hashlib
import json
import sys
import warnings

try:
    from noise.connection import Keypair, NoiseConnection
    from noise.backends.default.ciphers import AESGCMCipher, ChaCha20Cipher
except ImportError as error:
    print(
        "interop.py: cannot import the noiseprotocol package ({}).\n"
        "Run `make deps` (it installs it into .build/python) and run this script with "
        "PYTHONPATH=.build/python.".format(error),
        file=sys.stderr,
    )
    sys.exit(2)

PROTOCOL = "Noise_IKpsk2_25519_ChaChaPoly_SHA256"
PROLOGUE = b"causeway/4"
TRANSPORT_PLAINTEXT = b"causeway transport check"
# Lane 1's sixth message: the nonce layouts of the two ciphers differ in byte order, which a
# counter of 0 would not show.
TRANSPORT_COUNTER = (1 << 56) | 5

# A cipher offer is one byte: bit 0 accepts ChaCha20-Poly1305, bit 1 AES-256-GCM, bit 7 says
# the gateway has AES instructions. Both sides pick AES-256-GCM when both accept it and both
# have AES instructions, else ChaCha20-Poly1305 (Sources/CausewayCore/Crypto/CipherSuite.swift).
CHACHA, AES, AES_HARDWARE = 0x01, 0x02, 0x80
TRANSPORT_CIPHERS = {"chacha20-poly1305": ChaCha20Cipher, "aes-256-gcm": AESGCMCipher}


def agree(one, other):
    shared = one & other
    if shared & AES and shared & CHACHA:
        return "aes-256-gcm" if one & other & AES_HARDWARE else "chacha20-poly1305"
    if shared & AES:
        return "aes-256-gcm"
    if shared & CHACHA:
        return "chacha20-poly1305"
    return None


def label_key(label):
    return hashlib.sha256(label.encode("ascii")).digest()


def timestamp(seconds, nanoseconds):
    # 8 bytes big-endian seconds, then 4 bytes big-endian nanoseconds.
    return seconds.to_bytes(8, "big") + nanoseconds.to_bytes(4, "big")


# The vectors. Every private key is SHA-256 of an ASCII label. "without-psk" uses 32 zero
# bytes, which is how Causeway runs when no preshared key is configured (as WireGuard does).
VECTORS = [
    {
        "name": "with-psk",
        "psk": label_key("causeway test psk"),
        "timestamp": timestamp(0x65000000, 42),  # 00000000 65000000 0000002a
        "initiator_offer": CHACHA | AES | AES_HARDWARE,
        "responder_offer": CHACHA | AES | AES_HARDWARE,
    },
    {
        "name": "without-psk",
        "psk": bytes(32),
        "timestamp": timestamp(0x65000001, 7),   # 00000000 65000001 00000007
        "initiator_offer": CHACHA | AES,
        "responder_offer": CHACHA | AES | AES_HARDWARE,
    },
]

KEYS = {
    "initiator_static_private": label_key("causeway test initiator static"),
    "responder_static_private": label_key("causeway test responder static"),
    "initiator_ephemeral_private": label_key("causeway test initiator ephemeral"),
    "responder_ephemeral_private": label_key("causeway test responder ephemeral"),
}


# X25519 (RFC 7748) in plain Python, only to derive public keys independently of the
# library, so that the assertions below really show the fixed ephemerals were used.
_P = 2 ** 255 - 19


def x25519_public(private):
    k = bytearray(private)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % _P, (x2 - z2) % _P
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = (x3 + z3) % _P, (x3 - z3) % _P
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + 121665 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def connection(initiator, static_private, ephemeral_private, remote_static_public, psk):
    noise = NoiseConnection.from_name(PROTOCOL.encode("ascii"))
    if initiator:
        noise.set_as_initiator()
    else:
        noise.set_as_responder()
    noise.set_prologue(PROLOGUE)
    noise.set_psks(psk=psk)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, static_private)
    # A preset ephemeral is passed to HandshakeState as `e`; its write_message only
    # generates a keypair for token 'e' when `e` is still Empty, so this one is used.
    noise.set_keypair_from_private_bytes(Keypair.EPHEMERAL, ephemeral_private)
    if remote_static_public is not None:
        noise.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, remote_static_public)
    with warnings.catch_warnings():
        # validate() warns that a preset ephemeral is for testing only: it is.
        warnings.filterwarnings("ignore", message="One of ephemeral keypairs is already set")
        noise.start_handshake()
    return noise


def compute_vector(spec):
    psk = spec["psk"]
    payload = spec["timestamp"] + bytes([spec["initiator_offer"]])
    response_payload = bytes([spec["responder_offer"]])
    transport_cipher = agree(spec["initiator_offer"], spec["responder_offer"])
    k = KEYS
    initiator_static_public = x25519_public(k["initiator_static_private"])
    responder_static_public = x25519_public(k["responder_static_private"])
    initiator_ephemeral_public = x25519_public(k["initiator_ephemeral_private"])
    responder_ephemeral_public = x25519_public(k["responder_ephemeral_private"])

    initiator = connection(True, k["initiator_static_private"], k["initiator_ephemeral_private"],
                           responder_static_public, psk)
    responder = connection(False, k["responder_static_private"], k["responder_ephemeral_private"],
                           None, psk)
    check(initiator.noise_protocol.keypairs["s"].public_bytes == initiator_static_public,
          "library's initiator static public differs from RFC 7748")
    check(responder.noise_protocol.keypairs["s"].public_bytes == responder_static_public,
          "library's responder static public differs from RFC 7748")

    initiation = bytes(initiator.write_message(payload))
    check(len(initiation) == 32 + 48 + 29, "initiation is {} bytes".format(len(initiation)))
    check(initiation[:32] == initiator_ephemeral_public,
          "initiation does not start with the fixed initiator ephemeral")
    received_payload = bytes(responder.read_message(initiation))
    check(received_payload == payload, "responder read a different initiation payload")
    check(responder.noise_protocol.handshake_state.rs.public_bytes == initiator_static_public,
          "responder learnt a different initiator static key")

    response = bytes(responder.write_message(response_payload))
    check(len(response) == 32 + 17, "response is {} bytes".format(len(response)))
    check(response[:32] == responder_ephemeral_public,
          "response does not start with the fixed responder ephemeral")
    check(bytes(initiator.read_message(response)) == response_payload, "initiator read a different response payload")
    check(initiator.handshake_finished and responder.handshake_finished, "handshake did not finish")

    handshake_hash = initiator.get_handshake_hash()
    check(responder.get_handshake_hash() == handshake_hash, "handshake hashes differ")
    check(len(handshake_hash) == 32, "handshake hash is not 32 bytes")

    i_send = initiator.noise_protocol.cipher_state_encrypt
    i_recv = initiator.noise_protocol.cipher_state_decrypt
    r_send = responder.noise_protocol.cipher_state_encrypt
    r_recv = responder.noise_protocol.cipher_state_decrypt
    initiator_to_responder_key = bytes(i_send.k)
    responder_to_initiator_key = bytes(r_send.k)
    check(bytes(r_recv.k) == initiator_to_responder_key, "responder's receive key != initiator's send key")
    check(bytes(i_recv.k) == responder_to_initiator_key, "initiator's receive key != responder's send key")
    check(initiator_to_responder_key != responder_to_initiator_key, "both directions share a key")
    check(i_send.n == 0 and r_send.n == 0, "transport nonces do not start at 0")

    # The library's own first transport message (ChaChaPoly, counter 0) follows from the
    # extracted keys: they are the keys Split made.
    for connection_, peer_, key in ((initiator, responder, initiator_to_responder_key),
                                    (responder, initiator, responder_to_initiator_key)):
        first = connection_.encrypt(TRANSPORT_PLAINTEXT)
        check(peer_.decrypt(first) == TRANSPORT_PLAINTEXT, "the library cannot decrypt its own transport message")
        chacha = ChaCha20Cipher()
        chacha.initialize(key)
        check(chacha.encrypt(key, 0, b"", TRANSPORT_PLAINTEXT) == first,
              "transport ciphertext does not follow from the extracted key")

    # The agreed cipher's message at TRANSPORT_COUNTER, from the extracted keys: nonce = 4 zero
    # bytes || the counter (little-endian for ChaChaPoly, big-endian for AESGCM), empty
    # associated data.
    check(transport_cipher is not None, "the offers share no cipher")
    ciphertexts = []
    for key in (initiator_to_responder_key, responder_to_initiator_key):
        cipher = TRANSPORT_CIPHERS[transport_cipher]()
        cipher.initialize(key)
        ciphertext = cipher.encrypt(key, TRANSPORT_COUNTER, b"", TRANSPORT_PLAINTEXT)
        check(len(ciphertext) == len(TRANSPORT_PLAINTEXT) + 16, "transport ciphertext length")
        ciphertexts.append(ciphertext)
    initiator_ciphertext, responder_ciphertext = ciphertexts

    return {
        "name": spec["name"],
        "initiator_static_private": k["initiator_static_private"].hex(),
        "initiator_static_public": initiator_static_public.hex(),
        "responder_static_private": k["responder_static_private"].hex(),
        "responder_static_public": responder_static_public.hex(),
        "initiator_ephemeral_private": k["initiator_ephemeral_private"].hex(),
        "initiator_ephemeral_public": initiator_ephemeral_public.hex(),
        "responder_ephemeral_private": k["responder_ephemeral_private"].hex(),
        "responder_ephemeral_public": responder_ephemeral_public.hex(),
        "psk": psk.hex(),
        "prologue": PROLOGUE.hex(),
        "initiation_payload": payload.hex(),
        "initiator_offer": spec["initiator_offer"],
        "responder_offer": spec["responder_offer"],
        "response_payload": response_payload.hex(),
        "transport_cipher": transport_cipher,
        "transport_counter": TRANSPORT_COUNTER,
        "initiation": initiation.hex(),
        "response": response.hex(),
        "handshake_hash": handshake_hash.hex(),
        "initiator_to_responder_key": initiator_to_responder_key.hex(),
        "responder_to_initiator_key": responder_to_initiator_key.hex(),
        "transport_plaintext": TRANSPORT_PLAINTEXT.hex(),
        "initiator_transport_ciphertext": initiator_ciphertext.hex(),
        "responder_transport_ciphertext": responder_ciphertext.hex(),
    }


def compute():
    return {
        "protocol": PROTOCOL,
        "prologue": PROLOGUE.hex(),
        "vectors": [compute_vector(spec) for spec in VECTORS],
    }


def render(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def differences(expected, found):
    """Lists, field by field, where `found` (the file) differs from `expected`."""
    problems = []
    if not isinstance(found, dict):
        return ["the file is not a JSON object"]
    for key in sorted(set(expected) | set(found)):
        if key == "vectors":
            continue
        if key not in found:
            problems.append("top level: field {!r} is missing".format(key))
        elif key not in expected:
            problems.append("top level: unexpected field {!r}".format(key))
        elif found[key] != expected[key]:
            problems.append("top level: field {!r} is {!r}, expected {!r}".format(key, found[key], expected[key]))
    vectors = found.get("vectors")
    if not isinstance(vectors, list):
        return problems + ["top level: 'vectors' is missing or not a list"]
    by_name = {}
    for vector in vectors:
        if not isinstance(vector, dict) or "name" not in vector:
            problems.append("a vector without a name")
        else:
            by_name[vector["name"]] = vector
    for want in expected["vectors"]:
        name = want["name"]
        have = by_name.pop(name, None)
        if have is None:
            problems.append("vector {!r}: missing".format(name))
            continue
        for key in sorted(set(want) | set(have)):
            if key not in have:
                problems.append("vector {!r}: field {!r} is missing".format(name, key))
            elif key not in want:
                problems.append("vector {!r}: unexpected field {!r}".format(name, key))
            elif have[key] != want[key]:
                problems.append("vector {!r}: field {!r} is {}, expected {}".format(name, key, have[key], want[key]))
    for name in sorted(by_name):
        problems.append("vector {!r}: unexpected".format(name))
    if not problems and [v.get("name") for v in vectors] != [v["name"] for v in expected["vectors"]]:
        problems.append("the vectors are in a different order")
    return problems


def main():
    parser = argparse.ArgumentParser(description="Noise IKpsk2 known-answer vectors from noiseprotocol.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="FILE", help="write the vectors to FILE")
    mode.add_argument("--check", metavar="FILE", help="check FILE against freshly computed vectors")
    arguments = parser.parse_args()

    document = compute()
    text = render(document)
    if arguments.write:
        with open(arguments.write, "w", encoding="ascii") as handle:
            handle.write(text)
        print("wrote {} vectors to {}".format(len(document["vectors"]), arguments.write))
        return 0

    try:
        with open(arguments.check, "r", encoding="utf-8") as handle:
            stored_text = handle.read()
    except OSError as error:
        print("interop.py: cannot read {}: {}".format(arguments.check, error), file=sys.stderr)
        return 1
    try:
        stored = json.loads(stored_text)
    except ValueError as error:
        print("interop.py: {} is not valid JSON: {}".format(arguments.check, error), file=sys.stderr)
        return 1
    problems = differences(document, stored)
    if not problems and stored_text != text:
        problems.append("same values, but not formatted as --write writes them (sorted keys, indent 2, final newline)")
    if problems:
        for problem in problems:
            print("{}: {}".format(arguments.check, problem), file=sys.stderr)
        return 1
    print("{}: {} vectors match noiseprotocol".format(arguments.check, len(document["vectors"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

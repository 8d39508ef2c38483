"""Client sides of the SASL mechanisms, written from the RFCs, to drive
real exchanges through the auth process: PLAIN (RFC 4616), LOGIN,
CRAM-MD5 (RFC 2195), SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677)."""

import base64
import hashlib
import hmac
import os


def plain(user, password, authzid=""):
    return ("%s\0%s\0%s" % (authzid, user, password)).encode()


def cram_md5_response(user, password):
    """A callable answering the CRAM-MD5 challenge."""
    def answer(challenge):
        digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
        return ("%s %s" % (user, digest)).encode()
    return answer


class Scram:
    """One SCRAM exchange: first() is the initial response, then final()
    answers the server-first message, then check() the server-final one."""

    def __init__(self, hash_name, user, password, nonce=None):
        self.h = hash_name          # "sha1" or "sha256"
        self.user = user
        self.password = password
        self.cnonce = nonce or base64.b64encode(os.urandom(18)).decode()
        self.server_signature = None

    def first(self):
        self.client_first_bare = "n=%s,r=%s" % (
            self.user.replace("=", "=3D").replace(",", "=2C"), self.cnonce)
        return ("n,," + self.client_first_bare).encode()

    def _hmac(self, key, msg):
        return hmac.new(key, msg, self.h).digest()

    def final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        assert attrs["r"].startswith(self.cnonce), "server nonce must extend ours"
        salt = base64.b64decode(attrs["s"])
        iterations = int(attrs["i"])
        salted = hashlib.pbkdf2_hmac(self.h, self.password.encode(), salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.h, client_key).digest()
        without_proof = "c=biws,r=%s" % attrs["r"]
        auth_message = ",".join([self.client_first_bare, server_first, without_proof]).encode()
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = self._hmac(salted, b"Server Key")
        self.server_signature = self._hmac(server_key, auth_message)
        return ("%s,p=%s" % (without_proof, base64.b64encode(proof).decode())).encode()

    def check(self, server_final):
        assert server_final.decode() == "v=" + base64.b64encode(self.server_signature).decode(), \
            "server signature mismatch: %r" % server_final
        return b""

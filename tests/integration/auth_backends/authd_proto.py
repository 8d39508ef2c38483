"""The auth process's protocol, spoken from Python the way an SMTP worker
speaks it (see src/ipc/msg.h and src/auth/proto.h): frames of a 12-byte
header (length, type, flags, request id) and tagged fields.

Used by the auth_backends tests to drive the real auth process of a real
`gatepost serve` through its socket, $queue_directory/private/authd."""

import socket
import struct
import time

MECHS_REQ, START, STEP, ABORT = 0x0101, 0x0102, 0x0103, 0x0104
MECHS, CHALLENGE, SUCCESS, FAILURE = 0x0181, 0x0182, 0x0183, 0x0184

T_SERVICE, T_MECH, T_MECH_FLAGS, T_AVAILABLE = 1, 2, 3, 4
T_CLIENT_ADDR, T_CLIENT_PORT, T_CLIENT_NAME = 5, 6, 7
T_LOCAL_ADDR, T_LOCAL_PORT, T_SECURED, T_TLS_CIPHER = 8, 9, 10, 11
T_DATA, T_USERNAME, T_REASON, T_TEMPORARY = 12, 13, 14, 15

MECH_PLAINTEXT, MECH_DICTIONARY, MECH_ANONYMOUS = 1, 2, 4
MECH_MUTUAL_AUTH, MECH_FORWARD_SECRECY, MECH_ACTIVE = 8, 16, 32


def frame(mtype, rid, fields):
    body = b"".join(struct.pack(">HI", tag, len(v)) + v for tag, v in fields)
    return struct.pack(">IHHI", 12 + len(body), mtype, 0, rid) + body


def u32(v):
    return struct.pack(">I", v)


class Reply:
    def __init__(self, mtype, rid, fields):
        self.type, self.id, self.fields = mtype, rid, fields

    def get(self, tag, default=None):
        for t, v in self.fields:
            if t == tag:
                return v
        return default

    def all(self, tag):
        return [v for t, v in self.fields if t == tag]

    @property
    def kind(self):
        return {CHALLENGE: "challenge", SUCCESS: "success", FAILURE: "failure",
                MECHS: "mechs"}.get(self.type, hex(self.type))

    @property
    def data(self):
        return self.get(T_DATA, b"")

    @property
    def user(self):
        v = self.get(T_USERNAME)
        return v.decode() if v is not None else None

    @property
    def reason(self):
        v = self.get(T_REASON)
        return v.decode() if v is not None else None

    @property
    def temporary(self):
        return self.get(T_TEMPORARY) is not None

    def __repr__(self):
        return "<%s id=%d %r>" % (self.kind, self.id, self.fields)


class AuthConnection:
    """One worker-like connection. Every wait is bounded by timeout."""

    def __init__(self, path, timeout=20):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.pending = []
        self.mechs = {}
        self.next_id = 1

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _read_frame(self):
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= n:
                    raw, self.buf = self.buf[:n], self.buf[n:]
                    return self._parse(raw)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("auth process closed the connection")
            self.buf += chunk

    @staticmethod
    def _parse(raw):
        n, mtype, flags, rid = struct.unpack(">IHHI", raw[:12])
        assert flags == 0 and n == len(raw)
        fields, at = [], 12
        while at < n:
            tag, flen = struct.unpack(">HI", raw[at:at + 6])
            at += 6
            fields.append((tag, raw[at:at + flen]))
            at += flen
        assert at == n
        return Reply(mtype, rid, fields)

    def _remember_mechs(self, r):
        service = r.get(T_SERVICE).decode()
        if r.get(T_AVAILABLE) is None:
            self.mechs[service] = None
            return
        names = [v.decode() for v in r.all(T_MECH)]
        flags = [struct.unpack(">I", v)[0] for v in r.all(T_MECH_FLAGS)]
        self.mechs[service] = dict(zip(names, flags))

    def wait_reply(self, rid, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, r in enumerate(self.pending):
                if r.id == rid:
                    return self.pending.pop(i)
            r = self._read_frame()
            if r.type == MECHS:
                self._remember_mechs(r)
                if r.id != rid:
                    continue
            self.pending.append(r)
        raise TimeoutError("no reply for request %d" % rid)

    def wait_mechs(self, service, timeout=20, want_available=True):
        """Asks for every service's list and waits until service's is (un)available."""
        self.send(frame(MECHS_REQ, 0, [(T_SERVICE, b"")]))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if service in self.mechs and (self.mechs[service] is not None) == want_available:
                return self.mechs[service]
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                r = self._read_frame()
            except socket.timeout:
                break
            if r.type == MECHS:
                self._remember_mechs(r)
            else:
                self.pending.append(r)
        raise TimeoutError("mechanisms of %s never became %savailable: %r" %
                           (service, "" if want_available else "un", self.mechs))

    def start(self, service, mech, initial=None, client_addr="192.0.2.10", client_port=40000,
              local_addr="127.0.0.1", local_port=587, secured=False, cipher=None,
              client_name="client.example"):
        rid = self.next_id
        self.next_id += 1
        fields = [(T_SERVICE, service.encode()), (T_MECH, mech.encode()),
                  (T_CLIENT_ADDR, client_addr.encode()), (T_CLIENT_PORT, u32(client_port)),
                  (T_CLIENT_NAME, client_name.encode()), (T_LOCAL_ADDR, local_addr.encode()),
                  (T_LOCAL_PORT, u32(local_port))]
        if secured:
            fields.append((T_SECURED, b""))
        if cipher:
            fields.append((T_TLS_CIPHER, cipher.encode()))
        if initial is not None:
            fields.append((T_DATA, initial))
        self.send(frame(START, rid, fields))
        return rid

    def step(self, rid, data):
        self.send(frame(STEP, rid, [(T_DATA, data)]))

    def abort(self, rid):
        self.send(frame(ABORT, rid, []))

    def exchange(self, service, mech, responses, initial=None, **kw):
        """Runs a whole exchange: responses answer the challenges in turn
        (a callable gets the challenge bytes). Returns (final reply, challenges)."""
        rid = self.start(service, mech, initial=initial, **kw)
        challenges = []
        responses = list(responses)
        while True:
            r = self.wait_reply(rid)
            if r.type != CHALLENGE:
                return r, challenges
            challenges.append(r.data)
            if not responses:
                raise AssertionError("unexpected challenge %r" % r.data)
            resp = responses.pop(0)
            self.step(rid, resp(r.data) if callable(resp) else resp)

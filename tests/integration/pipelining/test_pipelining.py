"""RFC 2920 pipelining against the real daemon: a whole transaction sent
in one write gets every reply in order; replies to complete commands are
sent as soon as input runs dry (an incomplete line never holds them back);
and a client that never reads its replies cannot make the server buffer
unbounded output: the server stops reading, the client's writes stall, and
every reply is still delivered, in order, once the client reads again."""

import select
import socket
import subprocess
import threading
import time

from lib.smtp_raw import RawSMTP


def test_whole_transaction_in_one_write(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    assert c.reply()[0] == 220
    c.send(b"EHLO client.remote.example\r\n"
           b"MAIL FROM:<a@remote.example>\r\n"
           b"RCPT TO:<alice@test.example>\r\n"
           b"RCPT TO:<nobody@test.example>\r\n"
           b"RCPT TO:<bob@test.example>\r\n"
           b"DATA\r\n"
           b"Message-ID: <pipe1@remote.example>\r\nSubject: pipelined\r\n\r\nbody\r\n.\r\n"
           b"MAIL FROM:<b@remote.example>\r\n"
           b"RCPT TO:<bob@test.example>\r\n"
           b"DATA\r\n"
           b"Subject: second\r\n\r\nsecond body\r\n.\r\n"
           b"QUIT\r\n")
    got = c.replies(11)
    codes = [code for code, _ in got]
    assert codes == [250, 250, 250, 550, 250, 354, 250, 250, 250, 354, 250]
    assert got[0][1][-1].startswith("250 ")            # the EHLO reply is complete
    assert got[6][1][0].startswith("250 2.0.0 Ok: queued as ")
    assert got[10][1][0].startswith("250 2.0.0 Ok: queued as ")
    assert c.reply() == (221, ["221 2.0.0 Bye"])
    assert c.closed()
    assert len(gp.maildir_messages("alice")) == 1
    bob = gp.maildir_messages("bob", count=2)
    assert sum(b"second body" in m for m in bob) == 1


def test_replies_flushed_when_input_runs_dry(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    # Two complete commands and the start of a third: both replies come
    # back without waiting for the rest of the third line.
    c.send(b"EHLO client.remote.example\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<ali")
    got = c.replies(2, timeout=5)
    assert [code for code, _ in got] == [250, 250]
    assert c.pending(wait=0.3) == b""       # nothing for the incomplete line yet
    c.send(b"ce@test.example>\r\n")
    assert c.reply() == (250, ["250 2.1.5 Ok"])


def _queues(local_port, peer_port):
    """(Recv-Q, Send-Q) of one end of a loopback connection."""
    out = subprocess.run(["ss", "-tnH", "state", "established",
                          "( sport = :%d and dport = :%d )" % (local_port, peer_port)],
                         capture_output=True, text=True, timeout=10).stdout.split()
    return int(out[0]), int(out[1])


def test_client_that_does_not_read_cannot_grow_server_output(gatepost):
    gp = gatepost(main={"smtpd_workers": "1"})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Small client buffers so the stall comes after megabytes, not tens of them.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sock.connect(("127.0.0.1", gp.port))
    sock.settimeout(10)
    greeting = sock.recv(512)
    assert greeting.startswith(b"220 ")
    client_port = sock.getsockname()[1]

    # EHLO is not a junk command and each one earns a seven-line reply:
    # the server produces ~10 times more output than it reads.
    command = b"EHLO client.remote.example\r\n"
    reply_len = len(b"250-mx.test.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                    b"250-VRFY\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
                    b"250 SMTPUTF8\r\n")
    block = command * 2048
    limit = 64 * 1024 * 1024         # far beyond any socket buffer
    sent = 0
    sock.setblocking(False)
    stalled = False
    deadline = time.time() + 30
    while sent < limit and time.time() < deadline:
        _, writable, _ = select.select([], [sock], [], 1.0)
        if not writable:
            stalled = True
            break
        try:
            # Continue the byte stream where the last partial send left it.
            sent += sock.send(block[sent % len(block):])
        except BlockingIOError:
            continue
    assert stalled, "server kept reading %d bytes while its replies were unread" % sent

    # The server is stuck on this client only: another session is served.
    other = RawSMTP(gp.port)
    assert other.reply()[0] == 220
    assert other.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    other.close()

    # Account for every byte: what the server consumed produced replies;
    # those not in a kernel buffer are held in the server's memory.
    time.sleep(0.3)
    server_unread, server_unsent = _queues(gp.port, client_port)
    client_unread, client_unsent = _queues(client_port, gp.port)
    consumed = sent - client_unsent - server_unread
    produced = (consumed // len(command)) * reply_len
    held = produced - server_unsent - client_unread
    assert held <= 128 * 1024, ("server holds %d bytes of replies (consumed %d, sent %d)" %
                                (held, consumed, sent))

    # Now read everything: every command got its reply, in order.
    commands_sent = sent // len(command)
    rest = command[sent % len(command):] if sent % len(command) else b""
    if rest:
        commands_sent += 1
    sock.setblocking(True)
    sock.settimeout(30)
    received = []

    def read_all():
        data = b""
        deadline = time.time() + 60
        while not data.endswith(b"221 2.0.0 Bye\r\n") and time.time() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        received.append(data)

    reader = threading.Thread(target=read_all)
    reader.start()
    sock.sendall(rest + b"QUIT\r\n")
    reader.join(90)
    sock.close()
    data = received[0]
    assert data.endswith(b"221 2.0.0 Bye\r\n")
    expected = {b"250-mx.test.example", b"250-PIPELINING", b"250-SIZE 10240000", b"250-VRFY", b"250-ENHANCEDSTATUSCODES", b"250-8BITMIME", b"250 SMTPUTF8", b"221 2.0.0 Bye", b""}
    odd = set(data.split(b"\r\n")) - expected
    assert data.count(b"250 SMTPUTF8\r\n") == commands_sent, odd

"""Small helpers the integration tests share: sending a message with a
polite client (smtplib), finding messages in Maildirs by a unique marker,
and reading the header block of a delivered file."""

import os
import smtplib
import time


def send(port, rcpts, body=None, sender="sender@remote.example", helo="client.remote.example",
         source=None, timeout=30):
    """Sends one message over ESMTP; returns smtplib's refused-recipients dict."""
    if body is None:
        body = b"Subject: test\r\n\r\nhello\r\n"
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout,
                      source_address=(source, 0) if source else None) as c:
        c.ehlo(helo)
        return c.sendmail(sender, rcpts, body)


def message(marker, subject="test", extra_headers=(), body="hello\r\n"):
    """A small RFC 5322 message whose Message-ID and Subject carry marker."""
    lines = ["Message-ID: <%s@remote.example>" % marker, "Subject: %s %s" % (subject, marker)]
    lines += list(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def maildir_files(root):
    """Every delivered file under root (any depth), as {path: bytes}."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) not in ("new", "cur"):
            continue
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[path] = f.read()
    return out


def wait_for(predicate, timeout=20, interval=0.05, what="condition"):
    """Polls predicate() until it returns a true value (returned) or time runs out."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() >= deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


def header_block(data):
    """The header section of a delivered message (bytes, LF line ends) as text."""
    text = data.decode(errors="replace")
    return text.split("\n\n", 1)[0]


def header_values(data, name):
    """Every value of header `name` (unfolded) in a delivered message."""
    values = []
    matching = False
    for line in header_block(data).split("\n"):
        if line[:1] in (" ", "\t"):
            if matching:
                values[-1] += " " + line.strip()
            continue
        key, _, value = line.partition(":")
        matching = key.lower() == name.lower()
        if matching:
            values.append(value.strip())
    return values

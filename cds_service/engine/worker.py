"""An engine process: durable-rules runs here, so that a crash in its C code costs one call.

The supervisor (``supervisor.py``) talks to it over a socket, one request at a time, each
message a 4-byte big-endian length and a pickle: ``(op, key, payload)`` in, ``(ok, value)`` out.
``load`` compiles a rule set under a key with the same :class:`CompiledRules` the in-process
engine uses, ``evaluate`` runs facts through it (checked and written as engine JSON by the
caller, :func:`~.durable.prepare`), ``drop`` frees it. A Python error (a rule the
engine refuses, a fact it cannot take) is sent back and raised in the caller, as in-process; only
a crash or a hang ends the process. It exits when the supervisor closes its end.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import sys
from typing import Any, BinaryIO

from .durable import CompiledRules

HEADER = struct.Struct(">I")


def send(channel: socket.socket, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    channel.sendall(HEADER.pack(len(payload)) + payload)


def receive(reader: BinaryIO) -> Any:
    """The next message from a buffered reader of the channel (one ``recv`` for most
    messages); ``EOFError`` when the other end has gone."""
    header = reader.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the other end closed the channel")
    (size,) = HEADER.unpack(header)
    payload = reader.read(size)
    if len(payload) < size:
        raise EOFError("the other end closed the channel")
    return pickle.loads(payload)


def serve(channel: socket.socket) -> None:
    engines: dict[int, CompiledRules] = {}
    reader = channel.makefile("rb")
    while True:
        try:
            op, key, payload = receive(reader)
        except EOFError:
            return
        try:
            if op == "load":
                engines[key] = CompiledRules(*payload)
                reply: tuple[bool, Any] = (True, None)
            elif op == "evaluate":
                reply = (True, engines[key].run(payload))
            elif op == "drop":
                engines.pop(key).close()
                reply = (True, None)
            else:
                raise ValueError(f"unknown engine request {op!r}")
        except Exception as error:  # the caller raises it, as the in-process engine would
            reply = (False, error)
        send(channel, reply)


def main() -> None:
    """``python -m cds_service.engine.worker FD``: serve the socket inherited as ``FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the server, which stops us
    channel = socket.socket(fileno=int(sys.argv[1]))
    os.dup2(2, 1)  # anything the C code prints goes to the log, never into the channel
    serve(channel)


if __name__ == "__main__":
    main()
